import { CloseCode, isPermanentClose } from "../../protocol/close-codes";

/** How the wiki's editor reads an edge's close codes (protocol/PROTOCOL.md), for provider.ts. */

// Close codes after which trying again sends the same thing again: the
// 4400-4499 class (PROTOCOL.md), but for a refused token, which this
// provider can trade for a new one.
export const isFatalClose = (code: number) => isPermanentClose(code) && code !== CloseCode.unauthorized;
export const CLOSE_EXPLANATIONS: Partial<Record<number, string>> = {
  [CloseCode.unauthorized]: "the edge refused the token; getting a new one",
  [CloseCode.tokenExpired]: "the token expired while connected; getting a new one",
  [CloseCode.blocked]: "you can no longer edit",
  // The reason says the page was deleted, and why.
  [CloseCode.pageDeleted]: "you can no longer edit",
  // Followed (onClose): only a reason the provider cannot read ends here.
  [CloseCode.pageMoved]: "the page was moved",
  [CloseCode.badPage]: "the edge does not accept this page name",
  [CloseCode.badMessage]: "the edge could not read a message from this editor",
  [CloseCode.messageTooLarge]: "an edit was larger than the edge accepts",
  [CloseCode.presenceTooLarge]: "this editor's presence (cursor, name) was larger than the edge accepts",
  [CloseCode.tooSlow]: "this connection fell behind; resyncing",
  [CloseCode.rateLimited]: "too many edits too fast for too long; waiting before reconnecting",
  [CloseCode.overloaded]: "the replica is full; trying another",
  [CloseCode.draining]: "the replica is shutting down; moving to another",
};
