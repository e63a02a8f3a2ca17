import Link from "next/link";
import { OlderChanges } from "@/components/lists/OlderChanges";
import { RecentChangesList } from "@/components/lists/RecentChangesList";
import { decodeChangeCursor } from "@/origin/change-cursor";
import { BadRequestError } from "@/origin/errors";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { currentViewer } from "../viewer";

// It reads the session: Next answers it private, no-store, and no shared cache keeps it.
export const dynamic = "force-dynamic";
export const metadata = { title: "Watchlist" };

type Props = { searchParams: Promise<{ before?: string | string[] }> };

export default async function WatchlistPage({ searchParams }: Props) {
  const viewer = await currentViewer();
  if (!viewer) {
    return (
      <section>
        <h1>Watchlist</h1>
        <p>
          <Link href="/login?next=%2Fwatchlist">Log in</Link> to see the changes to the pages you watch.
        </p>
      </section>
    );
  }
  const { before } = await searchParams;
  let cursor;
  try {
    cursor = typeof before === "string" ? decodeChangeCursor(before) : undefined;
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
  }
  const origin = await getOrigin();
  const { changes, next } = await wikiOf(origin).watchlistChanges({ userId: viewer.userId, before: cursor, limit: 100 });
  return (
    <section>
      <h1>Watchlist</h1>
      <p className="muted">Changes to the pages you watch, newest first. You watch the pages you edit; the star on a page watches or unwatches it.</p>
      <RecentChangesList changes={changes} empty="No changes to the pages you watch yet." />
      <OlderChanges path="/watchlist" paged={cursor !== undefined} next={next} />
    </section>
  );
}
