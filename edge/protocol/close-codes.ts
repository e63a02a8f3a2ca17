/**
 * WebSocket close codes an edge uses, shared by the edge, the browser and
 * the load generator (4000-4999 are the application's range, RFC 6455
 * 7.4.2). The reason string says the specifics; the code says what to do.
 */
export const CloseCode = {
  /** The token is missing, malformed, forged or expired: get a new one. */
  unauthorized: 4001,
  /** The URL does not name a valid page. */
  badPage: 4004,
  /** A message was not valid protocol: a client bug; do not resend it. */
  badMessage: 4400,
  /**
   * A message exceeded the size limit. Past twice the limit the WebSocket
   * layer closes first, with the standard 1009 (Message Too Big).
   */
  messageTooLarge: 4413,
  /**
   * One client's awareness (presence) state exceeded EDGE_MAX_AWARENESS_BYTES.
   * A client bug (a cursor and a name are a few hundred bytes): sending the
   * same state again fails again. 431 as in HTTP's "header fields too large":
   * presence is the side channel, not the document.
   */
  presenceTooLarge: 4431,
  /**
   * The client fell behind past the bound (its socket held too many bytes,
   * or it stayed paused too long) and was dropped: reconnect and resync.
   */
  tooSlow: 4408,
  /**
   * The update would take the page over EDGE_MAX_PAGE_BYTES; it was not
   * applied. Resending it fails again (422, as the origin's refusal of a
   * page over the limit): the client keeps the edit locally and tells the
   * user; deleting content is always accepted.
   */
  pageTooLarge: 4422,
  /** Too many edits too fast: back off, then reconnect. */
  rateLimited: 4429,
  /** The replica is at its memory or connection limit: try another replica. */
  overloaded: 4503,
  /** The replica is shutting down: reconnect, to another replica of the PoP. */
  draining: 4000,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

export function closeCodeName(code: number): CloseCodeName | undefined {
  return (Object.keys(CloseCode) as CloseCodeName[]).find((name) => CloseCode[name] === code);
}
