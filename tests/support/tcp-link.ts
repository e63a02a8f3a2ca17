import { createServer, type Server, type Socket, connect } from "node:net";

/**
 * A TCP link the harness can cut: it forwards 127.0.0.1:<port> to a target
 * and, while cut, drops every open connection and refuses new ones. Put
 * between a PoP's NATS servers and the hub's leaf node listener, it cuts
 * one PoP off the hub (a network partition) while the hub keeps serving the
 * origin and the other PoPs; killing the hub would cut them all.
 */
export interface TcpLink {
  readonly port: number;
  readonly isCut: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpLink(target: { host: string; port: number }): Promise<TcpLink> {
  const open = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((inbound) => {
    if (cut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(target.port, target.host);
    open.add(inbound).add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on("error", drop).on("close", drop);
    outbound.on("error", drop).on("close", drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  const destroyAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port,
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      destroyAll();
    },
    restore() {
      cut = false;
    },
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
