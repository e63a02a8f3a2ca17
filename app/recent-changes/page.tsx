import { strongEtag } from "@/common/conditional";
import { type RecentChangesFields, RecentChangesFeed } from "@/components/lists/RecentChangesFeed";
import { recentChangesQuery } from "@/origin/http/recent-changes-query";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";

export const dynamic = "force-dynamic";
export const metadata = { title: "Recent changes" };

/** How many changes the page lists, and asks the API for in live mode. */
const PAGE_LIMIT = 100;

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? "";

export default async function RecentChangesPage({ searchParams }: Props) {
  const query = await searchParams;
  const fields: RecentChangesFields = {
    prefix: first(query.prefix),
    user: first(query.user),
    hideadmins: first(query.hideadmins) === "1",
    hidebots: first(query.hidebots) === "1",
  };
  const parsed = recentChangesQuery.safeParse({ prefix: fields.prefix, user: fields.user });
  const filter = parsed.success ? { ...parsed.data, hideAdmins: fields.hideadmins, hideBots: fields.hidebots } : {};
  const changes = await wikiOf(await getOrigin()).recentChanges({ ...filter, limit: PAGE_LIMIT });
  const apiQuery = new URLSearchParams({ limit: String(PAGE_LIMIT) });
  // A bad filter shows every change, and live mode follows that list.
  if (parsed.success) {
    if (fields.prefix.trim()) apiQuery.set("prefix", fields.prefix);
    if (fields.user.trim()) apiQuery.set("user", fields.user);
    if (fields.hideadmins) apiQuery.set("hideadmins", "1");
    if (fields.hidebots) apiQuery.set("hidebots", "1");
  }
  return (
    <section>
      <h1>Recent changes</h1>
      <p className="muted">Each change is one flush: the edits a PoP merged for a page over a few seconds.</p>
      {parsed.success ? null : (
        <p role="alert" className="error">
          {parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}: showing every change.
        </p>
      )}
      <RecentChangesFeed
        key={apiQuery.toString()}
        fields={fields}
        initial={changes}
        apiPath={`/api/recent-changes?${apiQuery}`}
        // The API's ETag is the hash of its JSON body (common/conditional.ts): the first poll of an unchanged list is a 304.
        etag={strongEtag(JSON.stringify({ changes }))}
        live={first(query.live) === "1"}
      />
    </section>
  );
}
