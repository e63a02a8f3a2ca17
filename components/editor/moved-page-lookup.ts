/**
 * The new name of a moved page, read from the origin: `GET /api/pages/<old
 * name>` answers 301 to the page under its new name, which fetch follows.
 * For the 4411 closes that cannot name it (protocol/moved-page.ts).
 */
export async function findMovedPage(slug: string): Promise<string | undefined> {
  const response = await fetch(`/api/pages/${encodeURIComponent(slug)}`, { headers: { accept: "application/json" } });
  if (!response.ok) return undefined;
  const page = (await response.json()) as { slug?: unknown };
  return typeof page.slug === "string" && page.slug !== slug ? page.slug : undefined;
}
