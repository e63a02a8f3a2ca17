import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { Http1Connection } from "../../e2e/spike/http1-connection";
import { freePort } from "../support/free-port";

/** The readers' HTTP/1.1 client (e2e/spike/http1-connection.ts): what a page view's answer may look like. */
describe("the readers' keep-alive connection", () => {
  let server: Server | undefined;
  let connection: Http1Connection | undefined;

  afterEach(async () => {
    connection?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("reads sized, chunked, empty and close-delimited answers in turn, and counts their body bytes", async () => {
    const sockets = new Set<unknown>();
    server = createServer((request, response) => {
      sockets.add(request.socket);
      if (request.url === "/sized") {
        response.setHeader("x-cache-status", "HIT");
        response.setHeader("content-length", "5");
        response.end("hello");
      } else if (request.url === "/chunked") {
        // Streamed like a Next.js render: chunks of their own, no length.
        response.write("a".repeat(3000));
        setTimeout(() => response.end("b".repeat(70_000)), 20);
      } else if (request.url === "/not-modified") {
        response.statusCode = 304;
        response.end();
      } else {
        response.setHeader("connection", "close");
        response.end("bye");
      }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    connection = new Http1Connection("127.0.0.1", port, 5000);
    expect(await connection.get("/sized", {})).toEqual({ status: 200, cache: "HIT", bytes: 5 });
    expect(await connection.get("/chunked", {})).toEqual({ status: 200, cache: "none", bytes: 73_000 });
    expect(await connection.get("/not-modified", {})).toEqual({ status: 304, cache: "none", bytes: 0 });
    expect(await connection.get("/close", {})).toEqual({ status: 200, cache: "none", bytes: 3 });
    // Kept alive until the server said close; then a new socket.
    expect(await connection.get("/sized", {})).toEqual({ status: 200, cache: "HIT", bytes: 5 });
    expect(sockets.size).toBe(2);
  });

  it("fails a request the server does not answer in time, and the next one gets a new socket", async () => {
    let first = true;
    server = createServer((_request, response) => {
      if (first) first = false;
      else response.end("late but fine");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    connection = new Http1Connection("127.0.0.1", port, 300);
    await expect(connection.get("/", {})).rejects.toThrow("timeout after 300 ms");
    expect(await connection.get("/", {})).toEqual({ status: 200, cache: "none", bytes: 13 });
  });
});
