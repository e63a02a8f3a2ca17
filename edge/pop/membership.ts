import { createHash } from "node:crypto";
import type { Logger } from "../../common/logger";
import type { Broker, Unsubscribe } from "../../broker/broker";
import { decodeEnvelope, encodeEnvelope, type ReplicaState } from "../../protocol/envelope";
import { subjects } from "../../protocol/subjects";

export interface Member {
  replica: string;
  pop: string;
  /** ws:// base clients connect to. */
  url: string;
  httpUrl: string;
  state: ReplicaState;
  connections: number;
  pages: number;
  lastSeen: number;
}

export interface MembershipOptions {
  broker: Broker;
  self: Pick<Member, "replica" | "pop" | "url" | "httpUrl">;
  heartbeatMs: number;
  expiryMs: number;
  stats: () => { connections: number; pages: number };
  log: Logger;
}

/**
 * The live replicas of a PoP: each announces itself with a heartbeat; one not
 * heard from for `expiryMs` is gone. Page ownership for flushing is
 * rendezvous hashing of the slug over the members that are up, so that a
 * member joining or leaving moves only its share of the pages.
 */
export class Membership {
  private readonly members = new Map<string, Member>();
  private state: ReplicaState = "up";
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: MembershipOptions) {}

  start(): void {
    const { broker, self } = this.options;
    this.unsubscribe = broker.subscribe(subjects.members(self.pop), (message) => {
      let envelope;
      try {
        envelope = decodeEnvelope(message.data);
      } catch (error) {
        this.options.log.warn({ err: error }, "membership: dropped a malformed heartbeat");
        return;
      }
      if (envelope.type !== "heartbeat" || envelope.replica === self.replica) return;
      this.record({ ...envelope, lastSeen: Date.now() });
    });
    this.announce();
    this.timer = setInterval(() => {
      this.announce();
      this.expire();
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Says goodbye (state "gone" or "draining") so peers need not wait for the expiry. */
  async leave(state: "draining" | "gone"): Promise<void> {
    this.state = state;
    this.announce();
    // Cut off from the broker, a flush would wait for its return: a replica
    // must still be able to drain (flush to the origin) and stop.
    await Promise.race([this.options.broker.flush().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    if (state === "gone") this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  onChange(listener: () => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every known member of the PoP, this replica included, by replica id. */
  list(): Member[] {
    const self: Member = { ...this.options.self, ...this.options.stats(), state: this.state, lastSeen: Date.now() };
    return [self, ...this.members.values()].sort((a, b) => a.replica.localeCompare(b.replica));
  }

  /** The replica that flushes `slug` for this PoP. */
  ownerOf(slug: string): string {
    let best = this.options.self.replica;
    let bestScore = -1n;
    for (const member of this.list()) {
      if (member.state !== "up") continue;
      const score = rendezvousScore(slug, member.replica);
      if (score > bestScore) {
        bestScore = score;
        best = member.replica;
      }
    }
    return best;
  }

  owns(slug: string): boolean {
    return this.ownerOf(slug) === this.options.self.replica;
  }

  private announce(): void {
    const { broker, self, stats } = this.options;
    broker.publish(subjects.members(self.pop), encodeEnvelope({ type: "heartbeat", ...self, state: this.state, ...stats() }));
  }

  private record(member: Member): void {
    const known = this.members.get(member.replica);
    if (member.state === "gone") {
      if (this.members.delete(member.replica)) this.changed();
      return;
    }
    this.members.set(member.replica, member);
    if (!known || known.state !== member.state) this.changed();
  }

  private expire(): void {
    const deadline = Date.now() - this.options.expiryMs;
    let changed = false;
    for (const [replica, member] of this.members) {
      if (member.lastSeen < deadline) {
        this.members.delete(replica);
        changed = true;
        this.options.log.info({ replica }, "membership: replica stopped heartbeating and is gone");
      }
    }
    if (changed) this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export function rendezvousScore(slug: string, replica: string): bigint {
  return createHash("sha1").update(slug).update("\0").update(replica).digest().readBigUInt64BE(0);
}
