import Link from "next/link";
import { pageHref } from "../../common/markdown";
import { formatTime, plural } from "../format";

export interface ChangeRow {
  slug: string;
  title: string;
  revision: number;
  createdAt: string;
  authors: string[];
  editCount: number;
  pop: string;
}

export function RecentChangesList({ changes }: { changes: ChangeRow[] }) {
  if (changes.length === 0) return <p className="muted">Nothing has changed yet.</p>;
  return (
    <ul className="change-list">
      {changes.map((change) => (
        <li key={`${change.slug}-${change.revision}`}>
          <time dateTime={change.createdAt}>{formatTime(change.createdAt)}</time>{" "}
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
            · <Link href={pageHref(change.slug, "history")}>history</Link>) · revision {change.revision} ·{" "}
            {plural(change.editCount, "edit")} by {change.authors.join(", ") || "—"} · via {change.pop}
          </span>
        </li>
      ))}
    </ul>
  );
}
