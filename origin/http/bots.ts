import { z } from "zod";
import { setBot } from "../bots";
import { requireNotBlocked } from "../blocks";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { requireOwnSiteJson } from "./cross-site";
import { answer } from "./respond";

const botBody = z.object({ bot: z.boolean({ error: "must be true or false" }) });

/** PUT /api/users/:name/bot `{ bot: boolean }`, admins only (session cookie). */
export function handleSetBot(origin: Origin, request: Request, params: { name: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const identity = await sessionIdentity(origin, request);
    await requireNotBlocked(origin.db.prisma, identity);
    const { bot } = botBody.parse(await readJson(request, 1024));
    const result = await setBot(origin.db.prisma, { name: params.name, bot, by: identity });
    origin.log.info({ user: result.name, bot, by: identity.name }, "bot flag changed");
    return result;
  });
}
