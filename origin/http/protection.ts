import { z } from "zod";
import { ORIGIN_POP } from "../../protocol/envelope";
import { requireNotBlocked } from "../blocks";
import { PROTECTION_LEVELS, setProtection } from "../protection";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { requireOwnSiteJson } from "./cross-site";
import { slugParam } from "./params";
import { answer } from "./respond";

const protectionBody = z.object({
  protection: z.enum(PROTECTION_LEVELS, { error: 'must be "none" or "admin"' }),
});

/** PUT /api/pages/:slug/protection `{ protection: "none" | "admin" }`, admins only (session cookie). */
export function handleSetProtection(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const slug = slugParam(params.slug);
    const identity = await sessionIdentity(origin, request);
    await requireNotBlocked(origin.db.prisma, identity);
    const { protection } = protectionBody.parse(await readJson(request, 1024));
    const result = await setProtection(origin.db.prisma, { slug, protection, by: identity });
    origin.log.info({ slug, protection, by: identity.name }, "page protection changed");
    // Edges holding the page read protection when they load it: tell them.
    for (const listener of origin.committed) listener({ pop: ORIGIN_POP, slugs: [slug] });
    return result;
  });
}
