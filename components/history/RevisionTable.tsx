import Link from "next/link";
import { pageHref } from "../../common/markdown";
import type { RevisionSummary } from "../../origin/revisions";
import { formatBytes, formatTime } from "../format";
import { AuthorLinks } from "../lists/AuthorLinks";

/**
 * A page's revisions, newest first, with two radio columns to pick the pair
 * to compare. A plain GET form: it works before (and without) JavaScript.
 */
export function RevisionTable({ slug, revisions }: { slug: string; revisions: RevisionSummary[] }) {
  const newest = revisions[0]?.number;
  const previous = revisions[1]?.number ?? newest;
  return (
    <form action={pageHref(slug, "diff")} method="get" className="history">
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col" title="Compare from">
                From
              </th>
              <th scope="col" title="Compare to">
                To
              </th>
              <th scope="col">Revision</th>
              <th scope="col">Saved</th>
              <th scope="col">Authors</th>
              <th scope="col">Edits</th>
              <th scope="col">PoP</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {revisions.map((revision) => (
              <tr key={revision.number} data-testid="revision-row">
                <td>
                  <input type="radio" name="from" value={revision.number} defaultChecked={revision.number === previous} aria-label={`Compare from revision ${revision.number}`} />
                </td>
                <td>
                  <input type="radio" name="to" value={revision.number} defaultChecked={revision.number === newest} aria-label={`Compare to revision ${revision.number}`} />
                </td>
                <td>
                  <Link href={`${pageHref(slug)}/revisions/${revision.number}`}>#{revision.number}</Link>
                  {revision.number > 1 ? (
                    <>
                      {" "}
                      <Link className="small" href={`${pageHref(slug, "diff")}?from=${revision.number - 1}&to=${revision.number}`}>
                        diff
                      </Link>
                    </>
                  ) : null}
                </td>
                <td>
                  <time dateTime={revision.updatedAt}>{formatTime(revision.updatedAt)}</time>
                </td>
                <td>
                  <AuthorLinks authors={revision.authors} />
                </td>
                <td className="number">{revision.editCount.toLocaleString("en")}</td>
                <td>{revision.pops.join(", ")}</td>
                <td className="number">{formatBytes(revision.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {revisions.length > 1 ? (
        <button type="submit" className="button">
          Compare selected revisions
        </button>
      ) : null}
    </form>
  );
}
