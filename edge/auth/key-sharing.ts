import type { Logger } from "../../common/logger";
import type { Broker, Unsubscribe } from "../../broker/broker";
import { subjects } from "../../protocol/subjects";
import type { TokenVerifier } from "./verifier";

/**
 * The origin's public signing keys, shared between replicas over the
 * broker. During a spike the origin is the part most likely to be slow or
 * down, and that is when replicas are added; without the keys a new
 * replica could verify no token and would refuse every client until the
 * origin answered. Any replica holding the keys answers; the asker takes
 * the first answer, and only a replica holding no keys at all asks.
 *
 * Trust: the broker is the replicas' own channel. Whoever can publish on it
 * can already write any page (replicas apply and flush each other's
 * updates); with this they could also hand a replica that holds no keys a
 * key set of their own, and so forge tokens there. Keep the broker closed
 * (NATS credentials and TLS, docs/self-hosting.md). The origin's keys take
 * over as soon as it answers.
 */
export function answerKeyRequests(broker: Broker, verifier: TokenVerifier, log: Logger): Unsubscribe {
  return broker.subscribe(subjects.signingKeys(), (message) => {
    const held = verifier.heldKeySet();
    // A replica without keys stays silent, so that one that has them answers first.
    if (held === undefined || !message.reply) return;
    try {
      broker.publish(message.reply, new TextEncoder().encode(JSON.stringify(held)));
    } catch (error) {
      log.warn({ err: error }, "could not answer a peer's request for the signing keys");
    }
  });
}

/** The keys another replica holds, or undefined when none answers within `timeoutMs`. */
export async function keysFromPeers(broker: Broker, timeoutMs: number): Promise<unknown> {
  try {
    const answer = await broker.request(subjects.signingKeys(), new Uint8Array(0), timeoutMs);
    return JSON.parse(new TextDecoder().decode(answer)) as unknown;
  } catch {
    return undefined;
  }
}
