import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { contributionsHref } from "@/components/lists/AuthorLinks";
import { OlderChanges } from "@/components/lists/OlderChanges";
import { RecentChangesList } from "@/components/lists/RecentChangesList";
import { decodeChangeCursor } from "@/origin/change-cursor";
import { BadRequestError, NotFoundError } from "@/origin/errors";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ name: string }>; searchParams: Promise<{ before?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Contributions of ${safeDecode((await params).name) ?? "nobody"}` };
}

function safeDecode(param: string): string | undefined {
  try {
    return decodeURIComponent(param);
  } catch {
    return undefined;
  }
}

export default async function ContributionsPage({ params, searchParams }: Props) {
  // Next 16 hands page params still percent-encoded; no account name holds "%", so decoding once is safe.
  const name = safeDecode((await params).name);
  const { before } = await searchParams;
  const origin = await getOrigin();
  try {
    if (name === undefined) notFound();
    const cursor = typeof before === "string" ? decodeChangeCursor(before) : undefined;
    const contributions = await wikiOf(origin).userContributions({ name, before: cursor, limit: 100 });
    return (
      <section>
        <h1>Contributions of {contributions.user}</h1>
        <p className="muted">Every revision {contributions.user} took part in, newest first.</p>
        <RecentChangesList changes={contributions.changes} empty={`${contributions.user} has not edited any page yet.`} />
        <OlderChanges path={contributionsHref(contributions.user)} paged={cursor !== undefined} next={contributions.next} />
      </section>
    );
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof BadRequestError) notFound();
    throw error;
  }
}
