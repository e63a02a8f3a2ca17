import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import type { ClientClaimList } from "../../protocol/envelope";
import type { EdgeMetrics } from "../metrics";
import { checkClientIds, type ClientIdVerdict, screenRemote, takeFromOrigin } from "./client-ids";
import type { Page, UpdateOrigin } from "./page";

type ConflictSource = "peer" | "relay" | "log" | "origin" | "claim";

/**
 * A replica's use of the client id checks (issue 18, `client-ids.ts`):
 * what it does with a client's, a peer's, the log's and the origin's
 * updates, and the counting and logging of what it refuses or leaves out.
 */
export class ClientIdScreening {
  constructor(private readonly deps: { metrics: EdgeMetrics; log: Logger }) {}

  check(page: Page, update: Uint8Array, user: string, options: { whole: boolean; claims: (client: number) => boolean }): ClientIdVerdict {
    const verdict = checkClientIds(page, update, user, options);
    const refusal = verdict.kind === "refused" ? verdict.refusal : verdict.leftOut;
    if (refusal) {
      this.deps.metrics.clientIdRefusals.inc({ reason: refusal.reason });
      this.deps.log.warn({ slug: page.slug, user, clients: refusal.clients, reason: refusal.reason }, `client update: ${refusal.message}`);
    }
    return verdict;
  }

  learnClaims(page: Page, claims: ClientClaimList, from: string): void {
    const disputed = page.claims.learn(claims);
    if (disputed.length > 0) this.conflict(page, "claim", from, disputed);
  }

  /** A remote update before it waits for its tick: its claims learnt, the structs that disagree with the page taken out. */
  screen(page: Page, update: Uint8Array, claims: ClientClaimList, source: "peer" | "relay" | "log", from: string): Uint8Array {
    const screened = screenRemote(page, update, claims);
    if (screened.disputed.length > 0) this.conflict(page, "claim", from, screened.disputed);
    if (screened.conflicting.length > 0) this.conflict(page, source, from, screened.conflicting);
    return screened.update;
  }

  /**
   * The origin's diff is applied whole: the origin is where the PoPs meet,
   * and what it holds is what every PoP ends with. Where it disagrees with
   * this page, this page keeps its own structs (Yjs cannot replace them):
   * counted and logged once per disagreement, see docs/security.md.
   */
  applyFromOrigin(page: Page, update: Uint8Array, claims: ClientClaimList = []): void {
    // The origin's claims win over what this page believed: they are what every PoP learns.
    page.claims.settle(claims);
    const conflicting = takeFromOrigin(page, update, () => Y.applyUpdate(page.doc, update, { kind: "origin" } satisfies UpdateOrigin));
    if (conflicting.length > 0) this.conflict(page, "origin", "origin", conflicting);
  }

  private conflict(page: Page, source: ConflictSource, from: string, clients: number[]): void {
    this.deps.metrics.clientIdConflicts.inc({ source }, clients.length);
    this.deps.log.warn(
      { slug: page.slug, source, from, clients },
      source === "claim"
        ? "client ids claimed by two users at once in two places: the first claim this replica heard stays"
        : "structs under client ids this page holds with other content: one client id was used for two contents at once in two places; this page keeps its own",
    );
  }
}
