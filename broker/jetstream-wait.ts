import { JetStreamApiError } from "@nats-io/jetstream";

/**
 * How long start-up waits out a JetStream that cannot answer for now. When
 * a server of an R3 cluster dies, the others elect new leaders (of the
 * cluster's metadata and of each stream); until then, seconds or more on a
 * loaded machine, requests time out or answer "temporarily unavailable", and
 * with two of three servers down they do so until one returns. A replica
 * starting then waits for its log rather than exiting.
 */
export const JETSTREAM_UNAVAILABLE_WAIT_MS = 60_000;

/**
 * JetStream cannot answer for now: a timeout or "temporarily unavailable"
 * (10008). "No responders" is not one: it is what a server without
 * JetStream answers, and that is a configuration to fix, said at once.
 */
export function isJetStreamUnavailable(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.code === 10008;
  return error instanceof Error && /timeout|temporarily unavailable/i.test(`${error.name} ${error.message}`);
}

/**
 * Runs `attempt` until it succeeds, fails for another reason, or `waitMs`
 * has passed; the last failure is thrown with the number of attempts.
 */
export async function waitOutUnavailable<T>(attempt: () => Promise<T>, waitMs = JETSTREAM_UNAVAILABLE_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isJetStreamUnavailable(error) || Date.now() >= deadline) {
        if (tries > 1 && error instanceof Error) error.message = `${error.message} (after ${tries} attempts over ${Math.round((Date.now() - deadline + waitMs) / 1000)} s)`;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 250 * tries)));
    }
  }
}
