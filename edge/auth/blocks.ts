import type { ActiveBlock, BlockNotice } from "../../protocol/blocks";

/**
 * The accounts an admin blocked, as this replica knows them: from the
 * broker's notices (at once) and the origin's list, re-read every
 * EDGE_BLOCK_RECHECK_MS (so that a lost notice costs at most that long). The
 * list replaces everything: a block lifted while a notice was lost is lifted
 * here at the next recheck too. Ends are checked here, so a block that runs
 * out needs nobody to say so.
 */
export class BlockedAccounts {
  private readonly blocks = new Map<string, { block: ActiveBlock; endsAt: number }>();
  /**
   * Notices heard while a read of the origin's list is under way: the list
   * may predate them (an unblock heard, then a list read before it lands),
   * so they are applied again on top of it, in order.
   */
  private heardDuringRead: BlockNotice[] | undefined;

  /** A read of the origin's list starts. */
  readStarted(): void {
    this.heardDuringRead = [];
  }

  /** The read failed: the list stays as it was. */
  readFailed(): void {
    this.heardDuringRead = undefined;
  }

  replaceAll(blocks: readonly ActiveBlock[]): void {
    this.blocks.clear();
    for (const block of blocks) this.add(block);
    for (const notice of this.heardDuringRead ?? []) this.applyOne(notice);
    this.heardDuringRead = undefined;
  }

  apply(notice: BlockNotice): void {
    this.heardDuringRead?.push(notice);
    this.applyOne(notice);
  }

  /** Why `userId` may not write now (a close reason: at most 123 bytes), or undefined. */
  refusal(userId: string, now: number): string | undefined {
    const entry = this.blocks.get(userId);
    if (!entry || now >= entry.endsAt) return undefined;
    const { reason, expiresAt } = entry.block;
    return fitCloseReason(`blocked by an admin ${expiresAt ? `until ${expiresAt}` : "with no end"}: ${reason}`);
  }

  get size(): number {
    return this.blocks.size;
  }

  private applyOne(notice: BlockNotice): void {
    if (notice.kind === "blocked") this.add(notice.block);
    else this.blocks.delete(notice.userId);
  }

  private add(block: ActiveBlock): void {
    this.blocks.set(block.userId, { block, endsAt: block.expiresAt ? Date.parse(block.expiresAt) : Number.POSITIVE_INFINITY });
  }
}

/** RFC 6455 limits a close reason to 123 bytes; an admin's reason may be longer (the wiki's block page shows it whole). */
export function fitCloseReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.byteLength <= 123) return text;
  // Cut on a character boundary: a split UTF-8 sequence would make the frame invalid.
  let cut = bytes.subarray(0, 120).toString();
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return `${cut}…`;
}
