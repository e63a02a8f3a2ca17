import type { Metadata } from "next";
import Link from "next/link";
import { pageHref } from "@/common/markdown";
import { slugToTitle } from "@/common/slug";
import { linkedSlugs } from "@/common/wikilinks";
import { EditorLoader } from "@/components/editor/EditorLoader";
import { PageFrame } from "@/components/page/PageFrame";
import { blockedMessage } from "@/origin/blocks";
import { writePermission } from "@/origin/protection";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { currentViewer } from "../../../viewer";
import { findPage, orNotFound, pageSlug } from "../../page-slug";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ restore?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: `Editing ${slug.replaceAll("_", " ")}` };
}

export default async function EditPage({ params, searchParams }: Props) {
  const slug = pageSlug((await params).slug, "edit");
  const { restore } = await searchParams;
  const origin = await getOrigin();
  const [page, viewer] = await Promise.all([findPage(wikiOf(origin), slug, "edit"), currentViewer()]);
  const title = page?.title || slugToTitle(slug);
  const permission = writePermission(viewer, page?.protection ?? "none");
  const frame = {
    slug,
    title,
    tab: "edit" as const,
    exists: page !== null,
    protection: page?.protection ?? "none",
  };

  if (!viewer) {
    return (
      <PageFrame {...frame} subtitle={page ? "Editing" : "Creating a new page"}>
        <p className="notice" data-testid="edit-notice">
          <Link href={`/login?next=${encodeURIComponent(pageHref(slug, "edit"))}`}>Log in</Link> or{" "}
          <Link href={`/register?next=${encodeURIComponent(pageHref(slug, "edit"))}`}>create an account</Link> to edit this page.
        </p>
      </PageFrame>
    );
  }

  // A blocked account gets no edge token: a notice, rather than an editor that cannot connect.
  const block = await wikiOf(origin).activeBlockOf(viewer.userId);
  if (block) {
    return (
      <PageFrame {...frame} subtitle="Editing">
        <p className="notice" data-testid="edit-notice">
          You cannot edit: {blockedMessage(block)}. You can still read the wiki.
        </p>
      </PageFrame>
    );
  }

  const restoreNumber = typeof restore === "string" && /^\d{1,9}$/u.test(restore) ? Number(restore) : null;
  const revision = restoreNumber !== null && page ? await orNotFound(wikiOf(origin).getRevision({ slug, number: restoreNumber })) : null;
  const existing = await wikiOf(origin).existingSlugs({ slugs: linkedSlugs(revision?.text ?? page?.text ?? "") });
  return (
    <PageFrame {...frame} subtitle={page ? "Editing" : "Creating a new page"}>
      <EditorLoader
        slug={slug}
        title={title}
        user={{ name: viewer.name, role: viewer.role }}
        readOnlyReason={permission.canWrite ? null : permission.reason}
        restore={revision ? { number: revision.number, text: revision.text } : null}
        existingPages={[...existing]}
      />
    </PageFrame>
  );
}
