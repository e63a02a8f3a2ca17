import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import { type Broker, NoRespondersError, type Unsubscribe } from "../../broker/broker";
import type { Page } from "../pages/page";
import { type ClientClaimList, decodeEnvelope, type Envelope, encodeEnvelope } from "../../protocol/envelope";
import { subjects } from "../../protocol/subjects";

export interface PeerHandlers {
  /** A peer's update or sync reply for a page this replica holds. */
  onUpdate(page: Page, update: Uint8Array, from: { replica: string; authors: readonly string[]; edits: number; claims: ClientClaimList }): void;
  onAwareness(page: Page, update: Uint8Array, replica: string): void;
  /** A client's update relayed live from a replica of another PoP. */
  onRelay(page: Page, update: Uint8Array, from: { replica: string; pop: string; claims: ClientClaimList }): void;
  /** The page's flusher got the origin's commit. */
  onFlushed(page: Page, stateVector: Uint8Array, revision: number): void;
  /** A peer loaded a page this replica flushes: load it too, to hear its updates. */
  onHold(slug: string): void;
}

/**
 * The replicas of one PoP, seen from one of them: update and awareness
 * fan-out per page, and anti-entropy by state-vector exchange (y-protocols
 * sync step 1 / step 2 semantics over the broker). Only replicas holding a
 * page subscribe to its subjects, so a bootstrap request that nobody can
 * answer fails at once (no responders) and the page loads from the origin.
 */
export class Peers {
  private readonly pageSubscriptions = new Map<string, Unsubscribe[]>();
  private inbox: Unsubscribe | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly pop: string,
    private readonly replica: string,
    private readonly pages: (slug: string) => Page | undefined,
    private readonly handlers: PeerHandlers,
    private readonly log: Logger,
  ) {}

  start(): void {
    // Anti-entropy answers come back here from every peer holding the page.
    this.inbox = this.broker.subscribe(this.inboxSubject(this.replica), (message) => {
      const envelope = this.decode(message.data);
      if (envelope?.type === "hold") {
        this.handlers.onHold(envelope.slug);
        return;
      }
      if (envelope?.type !== "sync-reply") return;
      const page = this.pages(envelope.slug);
      if (page) this.handlers.onUpdate(page, envelope.update, { replica: envelope.replica, authors: [], edits: 0, claims: envelope.claims });
    });
  }

  stop(): void {
    this.inbox?.();
    for (const slug of [...this.pageSubscriptions.keys()]) this.detach(slug);
  }

  /** Starts hearing a page's updates, awareness and sync requests. */
  attach(page: Page): void {
    if (this.pageSubscriptions.has(page.slug)) return;
    const { broker, pop } = this;
    const own = (envelope: Envelope | undefined) => envelope === undefined || envelope.replica === this.replica;
    this.pageSubscriptions.set(page.slug, [
      broker.subscribe(subjects.pageUpdates(pop, page.slug), (message) => {
        const envelope = this.decode(message.data);
        if (own(envelope) || envelope?.type !== "update") return;
        this.handlers.onUpdate(page, envelope.update, envelope);
      }),
      broker.subscribe(subjects.pageAwareness(page.slug), (message) => {
        const envelope = this.decode(message.data);
        if (own(envelope) || envelope?.type !== "awareness") return;
        this.handlers.onAwareness(page, envelope.update, envelope.replica);
      }),
      broker.subscribe(subjects.pageRelay(page.slug), (message) => {
        const envelope = this.decode(message.data);
        // This PoP's own replicas reach each other through the PoP's subjects (or its log).
        if (own(envelope) || envelope?.type !== "relay" || envelope.pop === pop) return;
        this.handlers.onRelay(page, envelope.update, envelope);
      }),
      broker.subscribe(subjects.pageFlushed(pop, page.slug), (message) => {
        const envelope = this.decode(message.data);
        if (own(envelope) || envelope?.type !== "flushed") return;
        this.handlers.onFlushed(page, envelope.stateVector, envelope.revision);
      }),
      broker.subscribe(subjects.pageSync(pop, page.slug), (message) => {
        const envelope = this.decode(message.data);
        if (own(envelope) || envelope?.type !== "sync-request") return;
        const update = Y.encodeStateAsUpdate(page.doc, envelope.stateVector);
        const reply = encodeEnvelope({
          type: "sync-reply",
          replica: this.replica,
          slug: page.slug,
          update,
          stateVector: Y.encodeStateVector(page.doc),
          protection: page.protection,
          originVector: page.originVector,
          revision: page.revision,
          // The claims of what the reply carries: all of them for a bootstrap,
          // none for the usual anti-entropy answer that carries nothing.
          claims: page.claimsOf(update),
        });
        broker.publish(message.reply ?? this.inboxSubject(envelope.replica), reply);
        // The requester has what we lack (it typed while cut off from the
        // broker): pull it now rather than at our next periodic exchange.
        if (isAhead(envelope.stateVector, page.doc)) this.pull(page);
      }),
    ]);
  }

  detach(slug: string): void {
    for (const unsubscribe of this.pageSubscriptions.get(slug) ?? []) unsubscribe();
    this.pageSubscriptions.delete(slug);
  }

  publishUpdate(slug: string, update: Uint8Array, authors: string[], edits: number, claims: ClientClaimList): void {
    this.broker.publish(subjects.pageUpdates(this.pop, slug), encodeEnvelope({ type: "update", replica: this.replica, slug, update, edits, authors, claims }));
  }

  publishRelay(slug: string, update: Uint8Array, claims: ClientClaimList): void {
    this.broker.publish(subjects.pageRelay(slug), encodeEnvelope({ type: "relay", replica: this.replica, pop: this.pop, slug, update, claims }));
  }

  publishAwareness(slug: string, update: Uint8Array): void {
    this.broker.publish(subjects.pageAwareness(slug), encodeEnvelope({ type: "awareness", replica: this.replica, slug, update }));
  }

  publishFlushed(slug: string, stateVector: Uint8Array, revision: number): void {
    this.broker.publish(
      subjects.pageFlushed(this.pop, slug),
      encodeEnvelope({ type: "flushed", replica: this.replica, slug, stateVector, revision }),
    );
  }

  /**
   * Asks the PoP's replicas holding `slug` for the whole page. Resolves with
   * the first answer, or undefined when no replica holds it (then the page
   * loads from the origin).
   */
  async bootstrap(slug: string, timeoutMs: number): Promise<Extract<Envelope, { type: "sync-reply" }> | undefined> {
    const request = encodeEnvelope({ type: "sync-request", replica: this.replica, slug, stateVector: new Uint8Array([0]) });
    try {
      const answer = this.decode(await this.broker.request(subjects.pageSync(this.pop, slug), request, timeoutMs));
      return answer?.type === "sync-reply" ? answer : undefined;
    } catch (error) {
      if (error instanceof NoRespondersError) return undefined;
      this.log.warn({ err: error, slug }, "peers: bootstrap from peers failed; loading from the origin");
      return undefined;
    }
  }

  /** Asks `owner`, the page's flusher, to hold the page so that it hears its updates. */
  askToHold(owner: string, slug: string): void {
    this.broker.publish(this.inboxSubject(owner), encodeEnvelope({ type: "hold", replica: this.replica, slug }));
  }

  /** Anti-entropy: every peer holding the page answers with what this replica lacks. */
  pull(page: Page): void {
    const request = encodeEnvelope({ type: "sync-request", replica: this.replica, slug: page.slug, stateVector: Y.encodeStateVector(page.doc) });
    this.broker.publish(subjects.pageSync(this.pop, page.slug), request);
  }

  private inboxSubject(replica: string): string {
    return subjects.replicaInbox(this.pop, replica);
  }

  private decode(data: Uint8Array): Envelope | undefined {
    try {
      return decodeEnvelope(data);
    } catch (error) {
      this.log.warn({ err: error }, "peers: dropped a malformed envelope");
      return undefined;
    }
  }
}

/** Whether a state vector holds a clock beyond what `doc` has. */
function isAhead(stateVector: Uint8Array, doc: Y.Doc): boolean {
  const ours = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const [client, clock] of Y.decodeStateVector(stateVector)) if (clock > (ours.get(client) ?? 0)) return true;
  return false;
}
