import Link from "next/link";

/** The links under a list of changes paged by cursor (origin/change-cursor.ts). */
export function OlderChanges({ path, paged, next }: { path: string; paged: boolean; next: string | null }) {
  if (!paged && next === null) return null;
  return (
    <p className="pager">
      {paged ? <Link href={path}>Newest</Link> : null}
      {next !== null ? <Link href={`${path}?before=${encodeURIComponent(next)}`}>Older changes</Link> : null}
    </p>
  );
}
