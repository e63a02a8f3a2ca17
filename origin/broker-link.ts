import type { Broker } from "../broker/broker";
import { type BlockNotice, encodeBlockNotice } from "../protocol/blocks";
import { type DeletionNotice, encodeDeletionNotice } from "../protocol/deletions";
import { encodeEnvelope } from "../protocol/envelope";
import { subjects } from "../protocol/subjects";
import { EdgeDirectory } from "./edge-directory";
import type { Origin } from "./runtime";

/**
 * Connects the origin to the edges' broker: after each commit it tells every
 * PoP which pages changed (so they pull them at once, not at their next
 * flush), tells them of each block and unblock and of each page delete and
 * undelete, and it learns the live
 * edges from their heartbeats.
 */
export function linkOriginToBroker(origin: Origin, broker: Broker): () => void {
  const announce = ({ pop, slugs }: { pop: string; slugs: string[] }) => {
    broker.publish(subjects.pageChanged(), encodeEnvelope({ type: "page-changed", replica: "origin", pop, slugs }));
  };
  origin.committed.add(announce);
  const announceBlock = (notice: BlockNotice) => {
    try {
      broker.publish(subjects.userBlocks(), encodeBlockNotice(notice));
    } catch (error) {
      // The edges' recheck of the block list enforces it anyway, within EDGE_BLOCK_RECHECK_MS.
      origin.log.warn({ err: error, notice: notice.kind }, "could not announce a block to the edges");
    }
  };
  origin.blockChanges.add(announceBlock);
  const announceDeletion = (notice: DeletionNotice) => {
    try {
      broker.publish(subjects.pageDeletions(), encodeDeletionNotice(notice));
    } catch (error) {
      // The edges' recheck of the pages they hold enforces it anyway, within EDGE_BLOCK_RECHECK_MS.
      origin.log.warn({ err: error, notice: notice.kind }, "could not announce a page deletion to the edges");
    }
  };
  origin.deletionChanges.add(announceDeletion);
  const directory = new EdgeDirectory(broker);
  origin.edges = directory;
  return () => {
    origin.committed.delete(announce);
    origin.blockChanges.delete(announceBlock);
    origin.deletionChanges.delete(announceDeletion);
    directory.close();
    if (origin.edges === directory) origin.edges = undefined;
  };
}
