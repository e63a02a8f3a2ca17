/**
 * The NATS server configurations of a Weirwood deployment, from one source:
 * docs/self-hosting/ holds them rendered with the guide's ports and paths
 * (`npm run docs:nats-conf` writes them; a test checks they are current),
 * and the integration tests start the same text with free ports and
 * temporary folders (tests/support/nats-topology.ts). Written for NATS 2.9.
 *
 * The shape: one hub server, where the origin connects; per PoP a cluster
 * of three servers in the PoP's own JetStream domain, each of them a leaf
 * node of the hub. The PoP's log stream (R3) lives in its cluster, so it
 * outlives one of the PoP's servers and keeps taking appends while the
 * link to the hub is down.
 */

export interface HubConf {
  /** host:port of the clients' listener (the origin). */
  listen: string;
  /** host:port of the monitoring listener. */
  http: string;
  /** host:port where the PoPs' servers connect as leaf nodes. */
  leafListen: string;
  storeDir: string;
}

export interface PopServerConf {
  pop: string;
  /** 1, 2, 3: the server's place in its PoP's cluster. */
  index: number;
  listen: string;
  http: string;
  /** host:port of this server's cluster route listener. */
  clusterListen: string;
  /** host:port of every route listener of the PoP's cluster, this one's included. */
  routes: string[];
  /** The hub's leaf node listener, as this server reaches it. */
  hubLeafUrl: string;
  storeDir: string;
}

/** What must not cross a leaf link: every PoP's own traffic (protocol/subjects.ts). */
export const POP_LOCAL_SUBJECTS = ["ww.*.page.>", "ww.*.inbox.>", "ww.*.log.>"];

const quoted = (values: string[]) => `[${values.map((value) => JSON.stringify(value)).join(", ")}]`;

export function hubConf(conf: HubConf): string {
  return `# Weirwood: the NATS hub, where the origin connects (NATS_URL of the origin).
# Every server of every PoP connects to its leafnodes listener as a leaf
# node. Generated from broker/nats-conf.ts (npm run docs:nats-conf):
# edit that file, not this one, so that the tests run what the guide says.
#
# Check: nats-server -c nats-hub.conf -t

server_name: weirwood-hub

# Clients: the origin.
listen: ${conf.listen}

# Monitoring (/varz, /leafz, /jsz). Keep it off the public network.
http: ${conf.http}

# JetStream in a domain of its own: Weirwood keeps nothing here (each PoP's
# log lives in its PoP's cluster), but a domain per side keeps the hub's
# JetStream and the PoPs' apart instead of merging them into one.
jetstream {
  domain: hub
  store_dir: ${JSON.stringify(conf.storeDir)}
  max_memory_store: 256MB
  max_file_store: 4GB
}

# Where the PoPs' servers connect as leaf nodes.
leafnodes {
  listen: ${conf.leafListen}
}
`;
}

/**
 * The PoP's cluster, or none for a PoP of one server: JetStream then runs
 * unclustered and the log can only be R1 (EDGE_LOG_REPLICAS=1), which loses
 * what that server had not written to disk when its machine dies.
 */
function clusterBlock(conf: PopServerConf): string {
  if (conf.routes.length <= 1) {
    return `# A PoP of one server: no cluster, so the log stream is R1 (EDGE_LOG_REPLICAS=1).
`;
  }
  return `# The PoP's three servers, which hold its log stream's three replicas.
cluster {
  name: weirwood-${conf.pop}
  listen: ${conf.clusterListen}
  routes: ${quoted(conf.routes.map((route) => `nats-route://${route}`))}
}
`;
}

export function popServerConf(conf: PopServerConf): string {
  return `# Weirwood: server ${conf.index} of the three NATS servers of PoP ${conf.pop}.
#
# The PoP's edge replicas connect to its servers (NATS_URL lists all three).
# The three form a JetStream cluster in the PoP's own domain, where the PoP's
# log lives: the stream WEIRWOOD_LOG_<base64url of the PoP> with three
# replicas (EDGE_LOG_REPLICAS=3), so that an acknowledged edit outlives one
# server. Each server is also a leaf node of the hub. Generated from
# broker/nats-conf.ts (npm run docs:nats-conf): edit that file instead.
#
# Check: nats-server -c nats-${conf.pop}-${conf.index}.conf -t

server_name: weirwood-${conf.pop}-${conf.index}

# Clients: this PoP's edge replicas.
listen: ${conf.listen}

# Monitoring (/varz, /leafz, /jsz, /healthz). Keep it off the public network.
http: ${conf.http}

# The PoP's domain: the edges' JetStream requests ($JS.API.>) are answered
# inside the PoP and never cross to the hub or another PoP.
jetstream {
  domain: ${conf.pop}
  store_dir: ${JSON.stringify(conf.storeDir)}
  max_memory_store: 256MB
  max_file_store: 4GB
}

${clusterBlock(conf)}
leafnodes {
  remotes: [
    {
      url: ${JSON.stringify(conf.hubLeafUrl)}

      # What stays in the PoP: every PoP's page traffic, replica inboxes and
      # log subjects (ww.<pop>.page.>, ww.<pop>.inbox.>, ww.<pop>.log.>,
      # protocol/subjects.ts). Denying them both ways also keeps the
      # edges' per-page subscriptions from being announced to the hub.
      #
      # What crosses (not denied): ww.<pop>.members (the replicas' heartbeats,
      # for the origin's GET /api/edges), ww.presence.> and ww.relay.> (cursors
      # and live edits, shared across PoPs), ww.origin.changed (the
      # origin's commits, to every PoP) and ww.origin.blocks (admins'
      # blocks of accounts, to every replica).
      #
      # A new PoP-scoped subject kind in subjects.ts belongs in both lists.
      deny_exports: ${quoted(POP_LOCAL_SUBJECTS)}
      deny_imports: ${quoted(POP_LOCAL_SUBJECTS)}
    }
  ]
}
`;
}

/** Ports of the self-hosting guide's example: one host, two PoPs, beside a distribution's nats-server on 4222. */
export const GUIDE_POPS = ["us-east", "eu-west"] as const;
export const SERVERS_PER_POP = 3;

/** docs/self-hosting/'s NATS files, by name: what the guide installs in /etc/weirwood/. */
export function guideNatsFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set("nats-hub.conf", hubConf({ listen: "127.0.0.1:4250", http: "127.0.0.1:8250", leafListen: "127.0.0.1:7450", storeDir: "/var/lib/weirwood/nats/hub" }));
  GUIDE_POPS.forEach((pop, p) => {
    // us-east: clients 4251-4253, monitoring 8251-8253, routes 6251-6253; eu-west: 4254-4256, ...
    const port = (base: number, index: number) => base + 1 + p * SERVERS_PER_POP + (index - 1);
    const routes = [1, 2, 3].map((index) => `127.0.0.1:${port(6250, index)}`);
    for (let index = 1; index <= SERVERS_PER_POP; index++) {
      files.set(
        `nats-${pop}-${index}.conf`,
        popServerConf({
          pop,
          index,
          listen: `127.0.0.1:${port(4250, index)}`,
          http: `127.0.0.1:${port(8250, index)}`,
          clusterListen: routes[index - 1]!,
          routes,
          hubLeafUrl: "nats-leaf://127.0.0.1:7450",
          storeDir: `/var/lib/weirwood/nats/${pop}-${index}`,
        }),
      );
    }
  });
  return files;
}
