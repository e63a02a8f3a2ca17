import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hubConf, popServerConf, SERVERS_PER_POP } from "../../broker/nats-conf";
import { startTcpLink, type TcpLink } from "./tcp-link";
import { freePort } from "./free-port";

/**
 * The NATS of docs/self-hosting/, started for a test on 127.0.0.1: the hub
 * and, per PoP, three servers in a JetStream cluster of the PoP's domain,
 * each a leaf node of the hub. The configurations are the guide's own
 * (broker/nats-conf.ts) with free ports and temporary store folders.
 */
export const NATS_SERVER_BIN = process.env.WEIRWOOD_NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const required = Boolean(process.env.CI || process.env.WEIRWOOD_NATS_SERVER_BIN);

/** Whether nats-server can run here; in CI (or with WEIRWOOD_NATS_SERVER_BIN set) its absence throws instead. */
export function natsServerAvailable(): boolean {
  if (existsSync(NATS_SERVER_BIN)) return true;
  const message = `nats-server not found at ${NATS_SERVER_BIN}: install it (apt-get install nats-server, see .ci/run) or set WEIRWOOD_NATS_SERVER_BIN`;
  if (required) throw new Error(message);
  console.warn(`${message}; skipping the NATS topology tests (CI runs them).`);
  return false;
}

export interface NatsServer {
  /** Its server_name, e.g. weirwood-us-east-x1-2. */
  readonly name: string;
  /** nats://127.0.0.1:port */
  readonly url: string;
  readonly monitorUrl: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same configuration and store. */
  start(): Promise<void>;
  /** What it logged, for a failing test's message. */
  output(): string;
}

export interface NatsPop {
  readonly servers: NatsServer[];
  readonly urls: string[];
  /** The cuttable link to the hub's leaf listener, when the PoP was started with one. */
  readonly link?: TcpLink;
}

export interface NatsTopology {
  readonly hub: NatsServer;
  readonly pops: Map<string, NatsPop>;
  pop(name: string): NatsPop;
  /** Waits until the hub has a leaf connection from every running PoP server. */
  leavesConnected(): Promise<void>;
  /** Waits until no running server of the PoP has a leaf connection (the hub is gone, as they see it). */
  leavesLost(pop: string): Promise<void>;
  /** The server currently leading a stream's replicas. */
  streamLeader(pop: string, stream: string): Promise<string | undefined>;
  /** SIGKILLs every server it started, and removes the stores. */
  stop(): Promise<void>;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for `check`; a wait that runs out throws with `what`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`nats topology: ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function natsServer(name: string, confFile: string, port: number, httpPort: number): NatsServer {
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const lines: string[] = [];
  const monitorUrl = `http://127.0.0.1:${httpPort}`;
  const server: NatsServer = {
    name,
    url: `nats://127.0.0.1:${port}`,
    monitorUrl,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async kill(signal) {
      if (!server.running) return;
      child!.kill(signal);
      await exited;
    },
    async start() {
      const started = spawn(NATS_SERVER_BIN, ["-c", confFile], { stdio: ["ignore", "ignore", "pipe"] });
      child = started;
      started.stderr!.on("data", (chunk: Buffer) => {
        lines.push(chunk.toString());
        if (lines.length > 200) lines.splice(0, lines.length - 200);
      });
      exited = once(started, "exit");
      let gone = false;
      void exited.then(() => (gone = true));
      // /healthz answers ok once JetStream is up and, in a cluster, current.
      await until(`${name} not healthy (${confFile}):\n${lines.join("")}`, async () => {
        if (gone) throw new Error(`nats topology: ${name} exited at start (${confFile}):\n${lines.join("")}`);
        return (await getJson<{ status: string }>(`${monitorUrl}/healthz`))?.status === "ok";
      });
    },
    output: () => lines.join(""),
  };
  return server;
}

export interface NatsHub {
  readonly server: NatsServer;
  readonly pops: Map<string, NatsPop>;
  /**
   * Starts a PoP's servers, each a leaf node of the hub: three in a
   * JetStream cluster (the guide's shape, for R3 logs) or one (R1). With
   * `cuttableLink`, their leaf connections go through a TcpLink the harness
   * can cut, to partition this PoP alone from the hub.
   */
  addPop(pop: string, options?: { servers?: 1 | 3; cuttableLink?: boolean }): Promise<NatsPop>;
  /** SIGKILLs a PoP's servers and removes their stores. */
  removePop(pop: string): Promise<void>;
  leavesConnected(): Promise<void>;
  leavesLost(pop: string): Promise<void>;
  streamLeader(pop: string, stream: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

/**
 * Runs a start on freshly picked ports again when a port was taken between
 * picking and binding it (other test files start servers at the same time):
 * `freePort` can only say a port was free a moment ago.
 */
async function onFreePorts<T>(start: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !/address already in use/u.test((error as Error).message)) throw error;
    }
  }
}

/** The hub alone, where the origin connects; PoPs are added (and removed) as a run needs them. */
export async function startNatsHub(): Promise<NatsHub> {
  const root = await mkdtemp(path.join(tmpdir(), "weirwood-nats-"));
  const started: NatsServer[] = [];
  const links: TcpLink[] = [];
  const configure = async (name: string, text: string) => {
    const file = path.join(root, `${name}.conf`);
    await writeFile(file, text);
    return file;
  };
  const stopAll = async () => {
    await Promise.all(started.map((server) => server.kill("SIGKILL")));
    await Promise.all(links.map((link) => link.close()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    await mkdir(path.join(root, "hub"));
    const { server, hubLeaf } = await onFreePorts(async () => {
      const [hubPort, hubHttp, leaf] = [await freePort(), await freePort(), await freePort()];
      const hubFile = await configure(
        "hub",
        hubConf({ listen: `127.0.0.1:${hubPort}`, http: `127.0.0.1:${hubHttp}`, leafListen: `127.0.0.1:${leaf}`, storeDir: path.join(root, "hub") }),
      );
      const one = natsServer("weirwood-hub", hubFile, hubPort, hubHttp);
      started.push(one);
      await one.start().catch(async (error: unknown) => {
        started.splice(started.indexOf(one), 1);
        throw error;
      });
      return { server: one, hubLeaf: leaf };
    });

    const pops = new Map<string, NatsPop>();
    const popOf = (name: string) => {
      const pop = pops.get(name);
      if (!pop) throw new Error(`nats topology: no PoP ${name} (started: ${[...pops.keys()].join(", ")})`);
      return pop;
    };
    /** A PoP's servers on ports picked now; a port taken meanwhile fails the start, and `onFreePorts` tries again. */
    const startPopServers = async (pop: string, count: number, link: TcpLink | undefined): Promise<NatsServer[]> => {
      const ports = [];
      for (let i = 0; i < count; i++) ports.push({ client: await freePort(), http: await freePort(), route: await freePort() });
      const routes = ports.map((port) => `127.0.0.1:${port.route}`);
      const servers: NatsServer[] = [];
      for (const [i, port] of ports.entries()) {
        const index = i + 1;
        const storeDir = path.join(root, `${pop}-${index}`);
        await rm(storeDir, { recursive: true, force: true });
        await mkdir(storeDir);
        const file = await configure(
          `${pop}-${index}`,
          popServerConf({
            pop,
            index,
            listen: `127.0.0.1:${port.client}`,
            http: `127.0.0.1:${port.http}`,
            clusterListen: routes[i]!,
            routes,
            hubLeafUrl: `nats-leaf://127.0.0.1:${link?.port ?? hubLeaf}`,
            storeDir,
          }),
        );
        servers.push(natsServer(`weirwood-${pop}-${index}`, file, port.client, port.http));
      }
      started.push(...servers);
      try {
        // Together: a JetStream cluster is healthy only once its peers met.
        await Promise.all(servers.map((one) => one.start()));
      } catch (error) {
        await Promise.all(servers.map((one) => one.kill("SIGKILL")));
        for (const one of servers) started.splice(started.indexOf(one), 1);
        throw error;
      }
      return servers;
    };

    const hub: NatsHub = {
      server,
      pops,
      async addPop(pop, options = {}) {
        const count = options.servers ?? SERVERS_PER_POP;
        const link = options.cuttableLink ? await startTcpLink({ host: "127.0.0.1", port: hubLeaf }) : undefined;
        if (link) links.push(link);
        const servers = await onFreePorts(() => startPopServers(pop, count, link));
        const added: NatsPop = { servers, urls: servers.map((one) => one.url), link };
        pops.set(pop, added);
        return added;
      },
      async removePop(pop) {
        const removed = popOf(pop);
        pops.delete(pop);
        await Promise.all(removed.servers.map((one) => one.kill("SIGKILL")));
        await removed.link?.close();
        await Promise.all(removed.servers.map((one) => rm(path.join(root, one.name.replace(/^weirwood-/u, "")), { recursive: true, force: true })));
      },
      async leavesConnected() {
        const running = [...pops.values()].flatMap((pop) => pop.servers).filter((one) => one.running).length;
        await until(`the hub does not count ${running} leaf connections`, async () => {
          const leafz = await getJson<{ leafnodes?: number }>(`${server.monitorUrl}/leafz`);
          return leafz?.leafnodes === running;
        });
      },
      async leavesLost(pop) {
        for (const one of popOf(pop).servers.filter((candidate) => candidate.running)) {
          await until(`${one.name} still has its leaf connection`, async () => {
            const leafz = await getJson<{ leafnodes?: number }>(`${one.monitorUrl}/leafz`);
            return leafz?.leafnodes === 0;
          });
        }
      },
      async streamLeader(pop, stream) {
        for (const one of popOf(pop).servers) {
          if (!one.running) continue;
          const jsz = await getJson<{ account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[] }>(
            `${one.monitorUrl}/jsz?streams=true`,
          );
          for (const account of jsz?.account_details ?? []) {
            const detail = account.stream_detail?.find((candidate) => candidate.name === stream);
            // An unclustered (R1) stream names no leader: its one server holds it.
            if (detail) return detail.cluster?.leader ?? (popOf(pop).servers.length === 1 ? one.name : undefined);
          }
        }
        return undefined;
      },
      stop: stopAll,
    };
    return hub;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The guide's whole topology at once: the hub and a three-server cluster per PoP. */
export async function startNatsTopology(options: { pops: string[] }): Promise<NatsTopology> {
  const hub = await startNatsHub();
  try {
    for (const pop of options.pops) await hub.addPop(pop);
    await hub.leavesConnected();
  } catch (error) {
    await hub.stop();
    throw error;
  }
  return {
    hub: hub.server,
    pops: hub.pops,
    pop(name) {
      const pop = hub.pops.get(name);
      if (!pop) throw new Error(`nats topology: no PoP ${name} (started: ${[...hub.pops.keys()].join(", ")})`);
      return pop;
    },
    leavesConnected: () => hub.leavesConnected(),
    leavesLost: (pop) => hub.leavesLost(pop),
    streamLeader: (pop, stream) => hub.streamLeader(pop, stream),
    stop: () => hub.stop(),
  };
}
