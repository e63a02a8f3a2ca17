import type { Origin } from "../../origin/runtime";
import { currentTexts } from "../../origin/pages";

/**
 * A page's text at the origin as of its newest committed flush, undefined
 * for no page: Page.text itself follows within the text refresh's bound.
 */
export async function originText(origin: Origin, slug: string): Promise<string | undefined> {
  const exists = await origin.db.prisma.page.count({ where: { slug } });
  return exists ? (await currentTexts(origin.db.prisma, [slug])).get(slug) : undefined;
}
