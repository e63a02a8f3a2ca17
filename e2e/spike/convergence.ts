import { ProtocolEditor } from "../load/protocol-editor";
import { checkMarkers, type MarkerCheck } from "../load/markers";

/**
 * After the spike: every acknowledged marker exactly once in the origin's
 * text and in every replica's, and all of them identical. A replica's text
 * is what it serves a client that syncs now (a read-only y-websocket sync,
 * the same path a browser takes), so the check holds for a self-hosted
 * deployment the harness did not start.
 */
export interface ReplicaRef {
  replica: string;
  url: string;
}

export interface ConvergenceReport {
  converged: boolean;
  /** From `since` (the end of the offered load) until the origin and every replica held the same text with every acknowledged marker. */
  convergenceMs: number | null;
  /** The origin's check. */
  origin: MarkerCheck;
  /** Each replica's check, and the pages where it differed from the origin at the end. */
  replicas: { replica: string; lost: number; duplicated: number; differingPages: string[]; error?: string }[];
  originTextBytes: number;
}

/** What one replica serves for `slug` now: connects, syncs, reads, closes. */
export async function replicaText(replica: ReplicaRef, slug: string, token: string, timeoutMs = 15_000): Promise<string> {
  const reader = ProtocolEditor.connect({ url: replica.url, slug, token, acks: false, follow: false });
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${replica.replica} did not sync ${slug} within ${timeoutMs} ms`)), timeoutMs).unref());
    const closed = reader.closed.then(({ code, reason }) => {
      throw new Error(`${replica.replica} closed the sync of ${slug}: ${code} ${reason}`);
    });
    await Promise.race([reader.synced, timeout, closed]);
    return reader.text.toString();
  } finally {
    reader.terminate();
    // Its Awareness runs a 3 s interval until destroyed, which would keep a process that read many pages alive (bench:edge hung on it).
    reader.awareness.destroy();
  }
}

export async function awaitConvergence(options: {
  slugs: readonly string[];
  replicas: readonly ReplicaRef[];
  token: string;
  originTexts: (slugs: readonly string[]) => Promise<Map<string, string>>;
  acked: ReadonlyMap<string, readonly string[]>;
  unacked: ReadonlyMap<string, readonly string[]>;
  since: number;
  timeoutMs: number;
  pollMs?: number;
}): Promise<ConvergenceReport & { texts: Map<string, string> }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let origin: Map<string, string>;
    try {
      origin = await options.originTexts(options.slugs);
    } catch (error) {
      // An origin still busy with the spike's backlog answers late: ask again until the deadline.
      if (Date.now() > deadline) throw new Error(`spike: the origin's texts could not be read for ${options.timeoutMs} ms: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
      continue;
    }
    const originCheck = checkMarkers(origin, options.acked, options.unacked);
    let replicas: ConvergenceReport["replicas"] = [];
    // Asking the replicas is only worth it once the origin holds everything.
    if (originCheck.lost === 0) {
      replicas = await Promise.all(
        options.replicas.map(async (replica) => {
          try {
            const texts = new Map<string, string>();
            for (const slug of options.slugs) texts.set(slug, await replicaText(replica, slug, options.token));
            const check = checkMarkers(texts, options.acked, options.unacked);
            const differingPages = options.slugs.filter((slug) => texts.get(slug) !== origin.get(slug));
            return { replica: replica.replica, lost: check.lost, duplicated: check.duplicated, differingPages };
          } catch (error) {
            return { replica: replica.replica, lost: -1, duplicated: -1, differingPages: [...options.slugs], error: (error as Error).message };
          }
        }),
      );
    }
    const converged =
      originCheck.lost === 0 &&
      originCheck.duplicated === 0 &&
      replicas.length === options.replicas.length &&
      replicas.every((replica) => replica.lost === 0 && replica.duplicated === 0 && replica.differingPages.length === 0);
    if (converged || Date.now() > deadline) {
      return {
        converged,
        convergenceMs: converged ? Date.now() - options.since : null,
        origin: originCheck,
        replicas,
        originTextBytes: [...origin.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0),
        texts: origin,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}
