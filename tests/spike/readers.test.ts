import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { runReaders } from "../../e2e/spike/readers";
import { fillTemplate } from "../../e2e/spike/nginx-cache";
import { freePort } from "../support/free-port";

/** The spike's readers (e2e/spike/readers.ts) against a server of the test's own. */
describe("the spike's readers", () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function serve(answer: (url: string, respond: (status: number, cache?: string) => void) => void): Promise<string> {
    server = createServer((request, response) =>
      answer(request.url ?? "", (status, cache) => {
        if (cache) response.setHeader("x-cache-status", cache);
        response.statusCode = status;
        response.end("<html>a page</html>");
      }),
    );
    const port = await freePort();
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${port}`;
  }

  it("counts every offered view once, as answered by cache status, failed, or skipped", async () => {
    const base = await serve((url, respond) => (url === "/wiki/Broken" ? respond(500) : respond(200, url === "/wiki/Hot" ? "HIT" : undefined)));
    const result = await runReaders({ urls: [`${base}/wiki/Hot`, `${base}/wiki/Cold`, `${base}/wiki/Broken`], viewsPerSec: 300, seconds: 1, connections: 4 });
    expect(result.answered + result.failed + result.skipped).toBe(result.offered);
    expect(result.offered).toBe(300);
    expect(result.skipped).toBe(0);
    // Round-robin over the pages, whichever thread sends a view: a third of the views to each page.
    expect(result.cacheStatuses).toEqual({ HIT: 100, none: 100 });
    expect(result.failures).toEqual({ "HTTP 500": 100 });
    expect(result.latencyMs.count).toBe(200);
  });

  it("offers the stated rate every second from all its threads together, and says so per second", async () => {
    const base = await serve((_url, respond) => respond(200, "HIT"));
    // No view given up however busy the machine: what is counted is by when views fell due, not how fast.
    const result = await runReaders({ urls: [`${base}/wiki/Hot`], viewsPerSec: 400, seconds: 2, connections: 4, threads: 2, maxQueueMs: 60_000 });
    expect(result.threads).toBe(2);
    expect(result.timeline).toEqual([
      { offered: 400, answered: 400, skipped: 0, failed: 0 },
      { offered: 400, answered: 400, skipped: 0, failed: 0 },
    ]);
    expect(result.p99OfOfferedMs).toBe(result.latencyMs.p99);
  });

  it("times a view from when it fell due, so a view that waited for a connection shows its wait", async () => {
    // The first view takes 600 ms; the views due meanwhile wait for the one connection.
    let first = true;
    const base = await serve((_url, respond) => {
      const delay = first ? 600 : 0;
      first = false;
      setTimeout(() => respond(200, "HIT"), delay);
    });
    const result = await runReaders({ urls: [`${base}/wiki/Hot`], viewsPerSec: 50, seconds: 1, connections: 1, maxQueueMs: 2000 });
    expect(result.answered).toBe(50);
    expect(result.skipped).toBe(0);
    // 15 of the 50 views fell due in the first 300 ms and waited until 600 ms at least.
    expect(result.latencyMs.p90).toBeGreaterThanOrEqual(300);
  });

  it("skips a view that found no free connection within maxQueueMs of falling due, instead of queueing it longer", async () => {
    // A server that answers nothing for 5 s, well after the 1 s of offered views: only the first view of each connection is sent.
    const base = await serve((_url, respond) => void setTimeout(() => respond(200, "MISS"), 5000));
    const result = await runReaders({ urls: [`${base}/wiki/Slow`], viewsPerSec: 100, seconds: 1, connections: 2, maxQueueMs: 300 });
    expect(result.offered).toBe(100);
    expect(result.answered).toBe(2);
    expect(result.skipped).toBe(98);
    expect(result.timeline[0]).toEqual({ offered: 100, answered: 2, skipped: 98, failed: 0 });
    // 98% got no page: there is no p99 over the offered views to state.
    expect(result.p99OfOfferedMs).toBeNull();
  }, 20_000);
});

describe("the guide's nginx template, filled in", () => {
  it("refuses a placeholder nothing fills in rather than writing a broken config", () => {
    expect(fillTemplate("listen {{LISTEN}};", { LISTEN: "127.0.0.1:8080" })).toBe("listen 127.0.0.1:8080;");
    expect(() => fillTemplate("listen {{LISTEN}}; server {{ORIGIN}};", { LISTEN: "1" })).toThrow(/\{\{ORIGIN\}\}/u);
  });
});
