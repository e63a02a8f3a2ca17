import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import type { DurabilityLevel } from "../../protocol/messages";

/**
 * A client that types unique markers into a page through one edge, one at a
 * time, and keeps typing through faults: when its connection closes (an
 * update the edge could not make durable closes it, code 1013) it
 * reconnects to the same edge and goes on. It records which markers it sent
 * and which the edge acknowledged, so that a test can check that every
 * acknowledged marker reached the origin exactly once and no other marker
 * more than once.
 */
export class MarkerWriter {
  readonly sent: string[] = [];
  readonly acked: string[] = [];
  /** Durability levels other than the expected one, with their marker: must stay empty. */
  readonly wrongLevels: string[] = [];
  reconnects = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private editor: ProtocolEditor | undefined;

  constructor(
    private readonly options: { url: string; slug: string; token: string; prefix: string; durability: DurabilityLevel; timeoutMs?: number },
  ) {}

  start(): void {
    this.running = this.loop();
  }

  /** Stops after the edit in flight; rejects if the loop failed (no connection within the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.editor?.terminate();
  }

  private async loop(): Promise<void> {
    const { prefix, durability } = this.options;
    this.editor = await this.connect();
    for (let i = 0; !this.stopped; i++) {
      const marker = `[${prefix}${i}]`;
      this.sent.push(marker);
      try {
        const ack = await this.editor.insert(this.editor.text.length, marker);
        if (ack.durability === durability) this.acked.push(marker);
        else this.wrongLevels.push(`${marker}:${ack.durability}`);
      } catch {
        // Closed before its ack: not acknowledged, so not counted; it may or may not reach the origin.
        this.editor.terminate();
        this.reconnects += 1;
        this.editor = await this.connect();
      }
    }
  }

  private async connect(): Promise<ProtocolEditor> {
    const { url, slug, token } = this.options;
    const deadline = Date.now() + (this.options.timeoutMs ?? 60_000);
    let last = "";
    while (Date.now() < deadline) {
      const editor = ProtocolEditor.connect({ url, slug, token });
      const outcome = await Promise.race([editor.synced.then(() => "synced" as const), editor.closed.then((closed) => `closed ${closed.code} ${closed.reason}`)]);
      if (outcome === "synced") return editor;
      last = outcome;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`marker writer ${this.options.prefix}: no synced connection to ${url} within the timeout (last: ${last})`);
  }
}

/** How many times `marker` occurs in `text`. */
export function occurrences(text: string, marker: string): number {
  return text.split(marker).length - 1;
}
