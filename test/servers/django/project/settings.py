"""
Settings of the Django REST framework + djangorestframework-simplejwt backend the tests run
against (test/django-simplejwt.test.ts, started by test/harness/django-server.ts).

A stock SimpleJWT set-up as its documentation describes it, with rotation and blacklisting on.
Everything that varies per run comes from the environment:

- DJANGO_DB_PATH: the SQLite database file (in a temporary directory; kept across restarts).
- DJANGO_SECRET_KEY: signs the JWTs; the same value across restarts keeps issued tokens valid.
- ACCESS_TOKEN_LIFETIME_SECONDS: access-token lifetime (default 300, SimpleJWT's default).
"""

import os
from datetime import timedelta

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
]

# The stack `django-admin startproject` generates (without messages): what a real project runs.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DJANGO_DB_PATH"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Django's advice for test runs: a fast hasher (the default PBKDF2 costs ~0.3 s per sign-in).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "DEFAULT_PARSER_CLASSES": ("rest_framework.parsers.JSONParser",),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        seconds=int(os.environ.get("ACCESS_TOKEN_LIFETIME_SECONDS", "300"))
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}

# Request lines go to stderr (the harness keeps the tail for error messages); nothing else.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["stderr"], "level": "WARNING"},
    },
}
