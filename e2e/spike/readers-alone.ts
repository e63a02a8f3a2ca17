// `npx tsx e2e/spike/readers-alone.ts --rate 10000 --connections 512`: the
// spike's readers against the guide's nginx cache in front of a stand-in
// origin (one fixed gzipped page, cacheable), nothing else of Weirwood
// running. What it shows is the ceiling of the readers and nginx on this
// machine, apart from the spike's own load: how many views/s they can
// offer and answer, at what latency, and the CPU of each.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { freePort } from "../../tests/support/free-port";
import { UsageSampler } from "../load/process-usage";
import { startNginxCache } from "./nginx-cache";
import { runReaders } from "./readers";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "10000" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "512" },
    threads: { type: "string", default: "2" },
    "nginx-workers": { type: "string", default: "1" },
  },
});

// About a page view's size: half text that compresses, half that does not.
const body = gzipSync(Buffer.from(`<html>${"x".repeat(20_000)}${randomBytes(3000).toString("hex")}</html>`));
const origin = createServer((_request, response) => {
  response.writeHead(200, {
    "content-type": "text/html",
    "content-encoding": "gzip",
    vary: "Accept-Encoding",
    "cache-control": "public, s-maxage=5, stale-while-revalidate=60",
    etag: '"1"',
  });
  response.end(body);
});
const originPort = await freePort();
await new Promise<void>((resolve) => origin.listen(originPort, "127.0.0.1", resolve));
const cache = await startNginxCache({ origin: `http://127.0.0.1:${originPort}`, port: await freePort(), workers: Number(args["nginx-workers"]) });
try {
  const urls = [1, 2, 3, 4, 5].map((i) => `${cache.url}/wiki/Page_${i}`);
  for (const url of urls) await (await fetch(url, { headers: { "accept-encoding": "gzip", accept: "text/html" } })).arrayBuffer();
  const sampler = new UsageSampler([
    { name: "nginx", comm: "nginx" },
    { name: "this process (readers' threads, stand-in origin)", pid: process.pid },
  ]);
  console.log(`load average at the start: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  const from = Date.now();
  const result = await runReaders({ urls, viewsPerSec: Number(args.rate), seconds: Number(args.seconds), connections: Number(args.connections), threads: Number(args.threads) });
  sampler.stop();
  const usage = sampler.report(from, Date.now());
  console.log(
    `offered ${result.offered} (${Math.round(result.offered / Number(args.seconds))}/s), answered ${result.answered} (${result.answeredPerSec}/s), skipped ${result.skipped}, failed ${result.failed}; ` +
      `latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms (of all offered: ${result.p99OfOfferedMs ?? "-"} ms), ${result.bytesPerView} bytes a view`,
  );
  console.log(`answered per second: ${result.timeline.map((second) => second.answered).join(" ")}`);
  console.log(
    `CPU % of a core: readers' ${result.threads} threads ${result.cpuPercent}, ${usage.processes.map((p) => `${p.name} ${p.cpuPercent}`).join(", ")}; ` +
      `machine ${usage.machineBusyPercent}% busy (user ${usage.machine.user}, system ${usage.machine.system}, softirq ${usage.machine.softirq})`,
  );
} finally {
  await cache.close();
  origin.close();
}
process.exit(0);
