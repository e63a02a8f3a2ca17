import { BrokerError, type LogEntry, type Unsubscribe } from "./broker";
import { runHandler } from "./handlers";
import { checkPattern, checkSubject, subjectMatches } from "./subject-patterns";

/** Who follows a log: delivery pauses while `canReceive()` is false and catches up after. */
export interface LogFollower {
  cursor: bigint;
  onEntry: (entry: LogEntry) => void;
  canReceive: () => boolean;
  active: boolean;
  scheduled: boolean;
}

/**
 * The entries of one memory durable log, shared by every connection of a bus
 * that asks for its name (as the replicas of a PoP share one JetStream
 * stream). Sequences start at 1 and are never reused, as in JetStream.
 */
export class MemoryLogStore {
  private entries: LogEntry[] = [];
  private last = 0n;
  private readonly followers = new Set<LogFollower>();

  constructor(
    readonly name: string,
    readonly subjects: string,
    /** Runs a task later, after the tasks already queued (the bus's delivery order). */
    private readonly schedule: (task: () => void) => void,
  ) {}

  append(subject: string, data: Uint8Array): bigint {
    checkSubject(subject);
    if (!subjectMatches(this.subjects, subject)) {
      throw new BrokerError(`durable log ${this.name}: cannot append on "${subject}", it is outside the log's subjects "${this.subjects}"`);
    }
    this.last += 1n;
    // A copy: the caller may reuse its buffer, as it may after a network send.
    this.entries.push({ sequence: this.last, subject, data: data.slice() });
    for (const follower of this.followers) this.pump(follower);
    return this.last;
  }

  follow(follower: LogFollower): Unsubscribe {
    this.followers.add(follower);
    this.pump(follower);
    return () => {
      follower.active = false;
      this.followers.delete(follower);
    };
  }

  /** Resumes the followers that could not receive for a while (after a simulated outage). */
  wake(): void {
    for (const follower of this.followers) this.pump(follower);
  }

  readAll(): LogEntry[] {
    return this.entries.map(copyEntry);
  }

  purge(subject: string, belowSequence: bigint): void {
    checkPattern(subject);
    this.entries = this.entries.filter((entry) => entry.sequence >= belowSequence || !subjectMatches(subject, entry.subject));
  }

  lastSequence(): bigint {
    return this.last;
  }

  entryCount(): number {
    return this.entries.length;
  }

  private pump(follower: LogFollower): void {
    if (follower.scheduled) return;
    follower.scheduled = true;
    this.schedule(() => {
      follower.scheduled = false;
      // Looked up again per entry: a handler may purge or append while we deliver.
      for (;;) {
        if (!follower.active || !follower.canReceive()) return;
        const entry = this.firstAtOrAfter(follower.cursor);
        if (entry === undefined) return;
        follower.cursor = entry.sequence + 1n;
        runHandler(entry.subject, follower.onEntry, copyEntry(entry));
      }
    });
  }

  private firstAtOrAfter(sequence: bigint): LogEntry | undefined {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.entries[middle] as LogEntry).sequence < sequence) low = middle + 1;
      else high = middle;
    }
    return this.entries[low];
  }
}

function copyEntry(entry: LogEntry): LogEntry {
  return { sequence: entry.sequence, subject: entry.subject, data: entry.data.slice() };
}
