/**
 * WebSocket close codes an edge uses, shared by the edge, the browser and
 * the load generator (4000-4999 are the application's range, RFC 6455
 * 7.4.2). The reason string says the specifics; the code says what to do.
 *
 * The convention (PROTOCOL.md) is the one stock clients already follow:
 * y-websocket 3.x's default `shouldReconnect` gives up on 4400-4499 (the
 * HTTP 4xx class: reconnecting unchanged cannot help) and reconnects on
 * everything else, 4500-4599 ("try again later") included. So only a
 * client bug, a refused token, a blocked account or an edit refused for
 * its content (a page past its size limit) is in 4400-4499; every condition a client
 * recovers from by coming back (rate, falling behind, draining, overload,
 * the origin away) is outside it.
 */
export const CloseCode = {
  /** The replica is shutting down: reconnect, to another replica of the PoP. */
  draining: 4000,
  /** A message was not valid protocol: a client bug; do not resend it. */
  badMessage: 4400,
  /**
   * The token is missing, malformed, forged or expired: get a new one before
   * reconnecting (the same token is refused again). 401 as Hocuspocus does.
   */
  unauthorized: 4401,
  /** The URL does not name a valid page. */
  badPage: 4404,
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
  /** The replica is at its memory or connection limit, or cannot reach the origin now: retry, or another replica. */
  overloaded: 4503,
  /**
   * The client fell behind past the bound (its socket held too many bytes,
   * or it stayed paused too long) and was dropped: reconnect and resync.
   */
  tooSlow: 4508,
  /**
   * The user stayed over its edit rate without a break for EDGE_FLOOD_CLOSE_MS
   * (shorter floods are only slowed down): reconnect; the edits held back
   * come again as one sync step 2.
   */
  rateLimited: 4529,
  /**
   * The update would take the page over EDGE_MAX_PAGE_BYTES; it was not
   * applied. Resending it fails again (422, as the origin's refusal of a
   * page over the limit): the client keeps the edit locally and tells the
   * user; deleting content is always accepted.
   */
  pageTooLarge: 4422,
  /**
   * The token the connection was opened with expired (past a grace of
   * EDGE_TOKEN_GRACE_MS): reconnect with a fresh one. Not in 4400-4499, so
   * that stock clients come back; a client that reconnects with the same
   * token is then refused with 4401.
   */
  tokenExpired: 4511,
  /**
   * An admin blocked the account (the reason names the admin's reason and
   * the block's end). In 4400-4499 on purpose: a block is final for that
   * user, so a stock client should not reconnect (it would be refused again,
   * at open, with the same code) and the wiki's editor shows the reason
   * instead. 403 as in HTTP: the token is valid, its bearer may not write.
   */
  blocked: 4403,
  /**
   * An admin deleted the page (the reason names the admin's reason). In
   * 4400-4499 on purpose: reconnecting is refused with the same code until
   * an admin undeletes the page, which is a person's decision, not a
   * condition that passes; the wiki's editor says the page is gone. Edits
   * the edge acknowledged before are kept in the page's history. 410 as in
   * HTTP's Gone, which `GET /api/pages/:slug` answers too.
   */
  pageDeleted: 4410,
  /**
   * The page was moved: this name is an old one (the reason names the new
   * one, protocol/moved-page.ts). In 4400-4499 on purpose:
   * reconnecting to the old name is refused with the same code, so a stock
   * client stops; the wiki's editor reconnects the same document under the
   * new name, so whatever it had not sent yet reaches the page there. 301
   * as in HTTP's Moved Permanently.
   */
  pageMoved: 4411,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

export function closeCodeName(code: number): CloseCodeName | undefined {
  return (Object.keys(CloseCode) as CloseCodeName[]).find((name) => CloseCode[name] === code);
}

/** Whether a client should give up rather than reconnect unchanged: y-websocket 3.x's default rule. */
export function isPermanentClose(code: number): boolean {
  return code >= 4400 && code < 4500;
}
