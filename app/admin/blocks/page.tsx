import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { BlockForm } from "@/components/admin/BlockForm";
import { UnblockButton } from "@/components/admin/UnblockButton";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { currentViewer } from "../../viewer";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Blocked accounts" };

/** /admin/blocks: admins block and unblock accounts, and see the active blocks and the block log (issue 18). */
export default async function BlocksPage() {
  const viewer = await currentViewer();
  if (viewer?.role !== "admin") forbidden();
  const wiki = wikiOf(await getOrigin());
  const [blocks, log] = await Promise.all([wiki.listActiveBlocks(), wiki.blockLog({ limit: 50 })]);
  return (
    <section>
      <h1>Blocked accounts</h1>
      <p className="muted">
        A blocked account can still log in and read, but cannot edit: every edge closes its connections within seconds, and it gets no new
        edit token until the block ends or is lifted.
      </p>
      <BlockForm />
      <h2>Active blocks</h2>
      {blocks.length === 0 ? (
        <p className="muted" data-testid="no-blocks">
          Nobody is blocked.
        </p>
      ) : (
        <div className="history table-scroll">
          <table data-testid="blocks">
            <thead>
              <tr>
                <th>Account</th>
                <th>Reason</th>
                <th>Until</th>
                <th>Blocked by</th>
                <th>Since</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {blocks.map((block) => (
                <tr key={block.userId} data-testid={`block-${block.name}`}>
                  <td>{block.name}</td>
                  <td>{block.reason}</td>
                  <td>{block.expiresAt ? <time dateTime={block.expiresAt}>{block.expiresAt.replace("T", " ").slice(0, 16)} UTC</time> : "no end"}</td>
                  <td>{block.blockedBy ?? "(deleted account)"}</td>
                  <td>
                    <time dateTime={block.createdAt}>{block.createdAt.replace("T", " ").slice(0, 16)} UTC</time>
                  </td>
                  <td>
                    <UnblockButton name={block.name} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Block log</h2>
      <p className="muted">
        Every block and unblock, newest first, also of blocks that ended (the whole log: <a href="/api/blocks/log">GET /api/blocks/log</a>).
      </p>
      {log.length === 0 ? (
        <p className="muted">Nobody has been blocked yet.</p>
      ) : (
        <ul className="log" data-testid="block-log">
          {log.map((entry) => (
            <li key={`${entry.at}-${entry.name}-${entry.action}`} data-testid={`block-log-${entry.action}-${entry.name}`}>
              <time dateTime={entry.at}>{entry.at.replace("T", " ").slice(0, 16)} UTC</time> {entry.by}{" "}
              {entry.action === "block" ? "blocked" : "unblocked"} {entry.name}
              {entry.action === "block" ? ` ${entry.expiresAt ? `until ${entry.expiresAt.replace("T", " ").slice(0, 16)} UTC` : "with no end"}` : ""}
              {entry.reason ? <span className="muted"> ({entry.reason})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
