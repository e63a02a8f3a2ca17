import Link from "next/link";
import { pageHref } from "../../common/markdown";
import type { RecentChange } from "../../origin/recent-changes";
import { formatTime, plural } from "../format";
import { AuthorLinks } from "./AuthorLinks";

export function RecentChangesList({ changes, empty = "Nothing has changed yet." }: { changes: RecentChange[]; empty?: string }) {
  if (changes.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="change-list">
      {changes.map((change) => (
        <li key={`${change.slug}-${change.revision}`} data-testid="change">
          <time dateTime={change.updatedAt}>{formatTime(change.updatedAt)}</time>{" "}
          <Link href={pageHref(change.slug)} className="title">
            {change.title}
          </Link>{" "}
          <span className="muted">
            (
            {change.revision > 1 ? (
              <Link href={`${pageHref(change.slug, "diff")}?from=${change.revision - 1}&to=${change.revision}`}>diff</Link>
            ) : (
              "new"
            )}{" "}
            · <Link href={pageHref(change.slug, "history")}>history</Link>) ·{" "}
            <Link href={`${pageHref(change.slug)}/revisions/${change.revision}`}>revision {change.revision}</Link> ·{" "}
            {plural(change.editCount, "edit")} by <AuthorLinks authors={change.authors} /> · via {change.pops.join(", ")}
          </span>
        </li>
      ))}
    </ul>
  );
}
