import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { guideNatsFiles } from "../../broker/nats-conf";
import { NATS_SERVER_BIN, natsServerAvailable } from "../support/nats-topology";

const folder = path.join(import.meta.dirname, "../../docs/self-hosting");

describe("the self-hosting guide's NATS configurations", () => {
  it("are what broker/nats-conf.ts generates, the source the topology tests start (npm run docs:nats-conf)", async () => {
    for (const [name, text] of guideNatsFiles()) expect(await readFile(path.join(folder, name), "utf8"), name).toBe(text);
  });

  it.runIf(natsServerAvailable())("are accepted by nats-server -t", () => {
    for (const name of guideNatsFiles().keys()) {
      expect(() => execFileSync(NATS_SERVER_BIN, ["-c", path.join(folder, name), "-t"], { stdio: ["ignore", "pipe", "pipe"] }), name).not.toThrow();
    }
  });
});
