#!/usr/bin/env python3
"""
Runs the test backend: applies the migrations (SimpleJWT's token blacklist included), creates the
test user when missing, then serves on 127.0.0.1:<PORT> with Django's threaded WSGI server (the
one `runserver` uses, without the autoreloader). Once the port is bound it prints one line,
`listening on 127.0.0.1:<PORT>`, to stdout. Stops on SIGTERM.

Environment: PORT, DJANGO_DB_PATH, DJANGO_SECRET_KEY, DJANGO_USER (JSON: username, password,
email, first_name, last_name), optional ACCESS_TOKEN_LIFETIME_SECONDS (see project/settings.py).
With EXIT_ON_STDIN_EOF=1 it also exits when its stdin closes, so a test run that dies (and with
it the pipe) never leaves a server behind.
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


def main():
    if os.environ.get("EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    call_command("migrate", interactive=False, verbosity=0)
    fields = json.loads(os.environ["DJANGO_USER"])
    password = fields.pop("password")
    User = get_user_model()
    if not User.objects.filter(username=fields["username"]).exists():
        User.objects.create_user(password=password, **fields)
    # What django.core.servers.basehttp.run(..., threading=True) does, with a line once bound.
    address = ("127.0.0.1", int(os.environ["PORT"]))
    httpd = ThreadedWSGIServer(address, WSGIRequestHandler, ipv6=False)
    httpd.set_app(WSGIHandler())
    print(f"listening on {address[0]}:{address[1]}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
