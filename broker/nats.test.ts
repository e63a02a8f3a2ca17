import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Broker, BrokerError, type LogEntry } from "./broker";
import { brokerContract } from "../tests/support/broker-contract";
import { connectNats } from "./nats";
import { natsAnswers, natsTestBed } from "../tests/support/test-nats";

const natsAvailable = await natsAnswers();
// A developer's machine may lack NATS; CI must not pass by skipping what it could not run.
const inCi = process.env.CI === "true";
if (!natsAvailable && inCi) throw new Error("CI=true but NATS does not answer on the test URL: start nats-server (see .ci/run) instead of skipping the NATS tests");

describe.skipIf(!natsAvailable)("NATS broker (shared test server)", () => {
  brokerContract("nats", natsTestBed);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

describe("connectNats", () => {
  // It answers with an error rather than retrying forever (the test's timeout bounds "at once").
  it("fails, naming the server and what to do, when NATS is unreachable", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const failure = await connectNats({ servers: url, name: "unreachable" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrokerError);
    expect((failure as Error).message).toContain(`cannot connect to ${url}`);
    expect((failure as Error).message).toContain("start nats-server");
  });
});

/**
 * A NATS server of our own, on a free port with its own store, so that this
 * test can kill and restart it without disturbing anyone.
 */
class PrivateNatsServer {
  private process: ChildProcess | undefined;
  readonly storeDir = mkdtempSync(join(tmpdir(), "weirwood-nats-"));

  constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], { stdio: "ignore" });
    this.process = child;
    const deadline = Date.now() + 10_000;
    while (!(await portAnswers(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server on port ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`nats-server on port ${this.port} did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL, by pid: a crash, not a shutdown. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const NATS_SERVER = process.env.WEIRWOOD_NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const canRunPrivateServer = existsSync(NATS_SERVER);
if (!canRunPrivateServer && inCi) throw new Error(`CI=true but ${NATS_SERVER} is missing: install nats-server (.ci/run does) or set WEIRWOOD_NATS_SERVER_BIN; the restart test must run in CI`);
if (!canRunPrivateServer) console.warn(`${NATS_SERVER} not found: skipping the NATS restart test (set WEIRWOOD_NATS_SERVER_BIN).`);

describe.skipIf(!canRunPrivateServer)("NATS broker across a server restart", () => {
  let server: PrivateNatsServer | undefined;
  let brokers: Broker[] = [];

  afterEach(async () => {
    await Promise.all(brokers.map((broker) => broker.close()));
    brokers = [];
    await server?.remove();
  });

  it("after the server restarts, onReconnect listeners run and subscriptions and log follows resume", async () => {
    server = new PrivateNatsServer(await freePort());
    await server.start();
    const replica = await connectNats({ servers: server.url, name: "replica", reconnectWaitMs: 50 });
    brokers.push(replica);
    let reconnects = 0;
    replica.onReconnect(() => (reconnects += 1));
    const heard: string[] = [];
    replica.subscribe("pop.page.>", (message) => heard.push(new TextDecoder().decode(message.data)));
    const log = await replica.durableLog("POP", "pop.log.>");
    const followed: LogEntry[] = [];
    await log.follow(1n, (entry) => followed.push(entry));
    await log.append("pop.log.page", new TextEncoder().encode("before"));
    await eventually("the entry before the crash", () => followed.length === 1);

    await server.kill();
    await server.start();
    await eventually("the reconnect listener", () => reconnects === 1);

    const peer = await connectNats({ servers: server.url, name: "peer" });
    brokers.push(peer);
    peer.publish("pop.page.x", new TextEncoder().encode("after"));
    await eventually("the message after the restart", () => heard.includes("after"));
    const sequence = await log.append("pop.log.page", new TextEncoder().encode("after"));
    await eventually("the entry after the restart", () => followed.length === 2);
    expect(followed.map((entry) => entry.sequence)).toEqual([1n, sequence]);
    expect(sequence).toBe(2n);
  });
});

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
