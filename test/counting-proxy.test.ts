/** The counting proxy the third-party backend tests put in front of servers they cannot instrument. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { startCountingProxy } from "./harness/counting-proxy.js";

/** A target that echoes what it received and sets two cookies. */
async function echoServer() {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    response.statusCode = request.url?.startsWith("/missing") ? 404 : 201;
    response.setHeader("content-type", "application/json");
    response.setHeader("set-cookie", ["a=1; Path=/; HttpOnly", "b=2; Path=/api; SameSite=Lax"]);
    response.setHeader("x-target", "echo");
    response.end(
      JSON.stringify({
        method: request.method,
        url: request.url,
        host: request.headers.host,
        authorization: request.headers.authorization,
        cookie: request.headers.cookie,
        body: Buffer.concat(chunks).toString("utf8"),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onTestFinished(close);
  return { url: `http://127.0.0.1:${port}`, port, close };
}

describe("counting proxy", () => {
  it("forwards method, path, query, headers and body, returns status, headers and every Set-Cookie, and counts by pathname", async () => {
    const target = await echoServer();
    const proxy = await startCountingProxy(target.url);
    onTestFinished(() => proxy.close());

    const response = await fetch(`${proxy.url}/api/token/?next=1`, {
      method: "POST",
      headers: { authorization: "Bearer abc", cookie: "x=y", "content-type": "application/json" },
      body: JSON.stringify({ refresh: "r" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toEqual([
      "a=1; Path=/; HttpOnly",
      "b=2; Path=/api; SameSite=Lax",
    ]);
    expect(response.headers.get("x-target")).toBe("echo");
    expect(await response.json()).toEqual({
      method: "POST",
      url: "/api/token/?next=1",
      host: `127.0.0.1:${target.port}`,
      authorization: "Bearer abc",
      cookie: "x=y",
      body: '{"refresh":"r"}',
    });

    expect((await fetch(`${proxy.url}/missing`)).status).toBe(404);
    await fetch(`${proxy.url}/api/token/`);
    expect(proxy.count("/api/token/")).toBe(2);
    expect(proxy.count("/missing")).toBe(1);
    expect(proxy.count("/never")).toBe(0);
    proxy.reset();
    expect([...proxy.counts]).toEqual([]);
  });

  it("answers 502 while the target is down, and counts the attempt", async () => {
    const target = await echoServer();
    const proxy = await startCountingProxy(target.url);
    onTestFinished(() => proxy.close());
    await target.close();

    const response = await fetch(`${proxy.url}/api/token/refresh/`, { method: "POST", body: "{}" });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "bad_gateway" });
    expect(proxy.count("/api/token/refresh/")).toBe(1);
  });
});
