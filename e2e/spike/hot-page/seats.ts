import type { EdgeTarget } from "../../load/load-plan";
import { ProtocolEditor } from "../../load/protocol-editor";
import { replicaText } from "../convergence";

/**
 * Where each of the crowd's editors types: a line of its own, written on
 * the page before the crowd arrives. The generator's editors do not apply
 * each other's edits (one process drives a thousand of them), so each sees
 * the page as it was at its sync plus its own typing. Typing at random
 * places in that stale view puts every insert among hundreds of concurrent
 * siblings that the edge's Yjs must scan, a cost real co-editors, who see
 * each other's text within milliseconds, do not cause. An editor typing at
 * the end of its own line inserts exactly as one with a fresh view would:
 * between its previous keystroke and its line's end, where nobody else
 * writes. So the edges' integration cost is that of a real crowd.
 */
export function seatsText(editors: number): string {
  return Array.from({ length: editors }, (_, i) => `${seatLabel(i)}\n`).join("");
}

function seatLabel(editor: number): string {
  return `seat ${editor}:`;
}

/** Where editor `editor` types in `text` (the page as it synced): the end of its seat's line. */
export function seatEnd(text: string, editor: number): number {
  const label = seatLabel(editor);
  // Searched from a newline put in front, so the first line matches too; its index is then the label's own.
  const at = `\n${text}`.indexOf(`\n${label}`);
  if (at < 0) throw new Error(`the page has no line "${label}": the seats were not written before the crowd synced`);
  return at + label.length;
}

/**
 * Writes one line per editor on `slug` through the first edge, and waits
 * until every edge serves it (the crowd's editors sync from all of them).
 */
export async function writeSeats(edges: readonly (EdgeTarget & { replica: string })[], slug: string, token: string, editors: number, timeoutMs = 30_000): Promise<void> {
  const writer = ProtocolEditor.connect({ url: edges[0]!.url, slug, token });
  try {
    await writer.synced;
    await writer.insert(0, seatsText(editors));
  } finally {
    await writer.close();
  }
  const last = `${seatLabel(editors - 1)}\n`;
  const deadline = Date.now() + timeoutMs;
  for (const edge of edges) {
    while (!(await replicaText(edge, slug, token)).includes(last)) {
      if (Date.now() > deadline) throw new Error(`${edge.replica} did not show the seats of ${slug} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
