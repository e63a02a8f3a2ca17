import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { parseSlug, type Slug } from "@/common/slug";
import { pageHref } from "@/common/markdown";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { currentViewer } from "../../viewer";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Deletion log" };

type Props = { searchParams: Promise<{ slug?: string }> };

/** /admin/deletions[?slug=]: every delete and undelete, who, when and why, newest first (issue 22). */
export default async function DeletionsPage({ searchParams }: Props) {
  const viewer = await currentViewer();
  if (viewer?.role !== "admin") forbidden();
  const raw = (await searchParams).slug;
  let slug: Slug | undefined;
  try {
    slug = raw ? parseSlug(raw) : undefined;
  } catch {
    slug = undefined;
  }
  const entries = await wikiOf(await getOrigin()).listDeletions({ by: viewer, slug, limit: 200 });
  return (
    <section>
      <h1>Deletion log{slug ? ` of ${slug.replaceAll("_", " ")}` : ""}</h1>
      <p className="muted">
        A deleted page is gone for readers, search and links, and every edge closes its editors; its text and history are kept, and
        Undelete on the page brings them back. {slug ? <Link href="/admin/deletions">The whole log</Link> : null}
      </p>
      {entries.length === 0 ? (
        <p className="muted" data-testid="no-deletions">
          Nothing was deleted{slug ? " here" : ""}.
        </p>
      ) : (
        <div className="history table-scroll">
          <table data-testid="deletions">
            <thead>
              <tr>
                <th>When</th>
                <th>Page</th>
                <th>Action</th>
                <th>By</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id} data-testid={`deletion-${entry.action}`}>
                  <td>
                    <time dateTime={entry.at}>{entry.at.replace("T", " ").slice(0, 19)} UTC</time>
                  </td>
                  <td>
                    <Link href={pageHref(entry.slug)}>{entry.title}</Link>
                  </td>
                  <td>{entry.action === "delete" ? "deleted" : "undeleted"}</td>
                  <td>{entry.by ?? "(deleted account)"}</td>
                  <td>{entry.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
