import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../tests/support/free-port";

/**
 * A Postgres cluster of the benchmark's own, on a free loopback port, from
 * the machine's Postgres binaries (Debian's postgresql package). WAL is
 * written per cluster, not per database: measured on the shared server on
 * 5432, `pg_current_wal_lsn()` also counts every other test and service
 * writing there at the same time. A private cluster's WAL is ours alone.
 */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /**
   * CPU seconds the cluster has used so far (the postmaster and every live
   * backend and worker, with the children that exited): a figure that holds
   * on a busy machine, where wall-clock throughput does not.
   */
  cpuSeconds(): number;
  /**
   * Stops the cluster as a crash would (`pg_ctl -m immediate`: no
   * checkpoint, clients cut), waits `downMs`, and starts it again with its
   * data: what a Postgres restart mid-spike looks like to the origin.
   */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const TICKS_PER_SECOND = 100; // USER_HZ

/** utime + stime (+ cutime + cstime with `children`) of a pid, and its parent. */
function procCpu(pid: number, children: boolean): { seconds: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return { seconds: ticks / TICKS_PER_SECOND, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) throw new Error(`no Postgres binaries under ${root}: install Debian's postgresql package (apt-get install -y postgresql)`);
  const versions = readdirSync(root).filter((name) => existsSync(path.join(root, name, "bin", "initdb")));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no initdb under ${root}/*/bin: install Debian's postgresql package`);
  return path.join(root, newest, "bin");
}

/** initdb refuses to run as root: as root, run the cluster as the `postgres` user. */
function asClusterUser(command: string, args: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", command, ...args] : [command, ...args];
}

function run(command: string, args: string[]): void {
  const [file, ...rest] = asClusterUser(command, args);
  const result = spawnSync(file!, rest, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

export async function startPrivatePostgres(options: { settings?: Record<string, string> } = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), "weirwood-pg-"));
  if (process.getuid?.() === 0) execFileSync("chown", ["postgres", dir]);
  const data = path.join(dir, "data");
  run(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const settings = Object.entries({ listen_addresses: "127.0.0.1", unix_socket_directories: dir, ...options.settings })
    .map(([key, value]) => `-c ${key}=${value}`)
    .join(" ");
  const start = () => run(path.join(bin, "pg_ctl"), ["-D", data, "-o", `-p ${port} ${settings}`, "-l", path.join(dir, "log"), "-w", "start"]);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.end();
  const readPostmaster = () => Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  let postmaster = readPostmaster();
  // CPU of the postmasters that ended, so that a restart does not reset the count.
  let endedSeconds = 0;
  const cluster: PrivatePostgres = {
    url,
    cpuSeconds() {
      let seconds = endedSeconds + (procCpu(postmaster, true)?.seconds ?? 0);
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/u.test(entry)) continue;
        const child = procCpu(Number(entry), false);
        if (child?.ppid === postmaster) seconds += child.seconds;
      }
      return seconds;
    },
    async restart(downMs) {
      endedSeconds = cluster.cpuSeconds();
      run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      start();
      postmaster = readPostmaster();
    },
    async stop() {
      run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
