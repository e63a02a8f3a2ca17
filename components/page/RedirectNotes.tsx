import Link from "next/link";
import { pageHref } from "../../common/markdown";
import { type Slug, slugToTitle } from "../../common/slug";
import type { ShownRedirect } from "../../origin/page-view";

/** Where a redirect page is read and edited as itself rather than followed. */
export function redirectPageHref(slug: string): string {
  return `${pageHref(slug)}?redirect=no`;
}

/** A link to a page, red and to its editor when it does not exist (as the page body's [[links]], common/markdown.ts). */
function WikiLink({ slug, exists }: { slug: Slug; exists: boolean }) {
  return (
    <Link
      href={exists ? pageHref(slug) : pageHref(slug, "edit")}
      className={exists ? "wikilink" : "wikilink new"}
      title={exists ? slugToTitle(slug) : `${slugToTitle(slug)} (page does not exist)`}
    >
      {slugToTitle(slug)}
    </Link>
  );
}

/** Under the title of a page reached through a redirect, as MediaWiki's "(Redirected from …)". */
export function RedirectedFrom({ from }: { from: Slug }) {
  return (
    <span data-testid="redirected-from">
      (Redirected from <Link href={redirectPageHref(from)}>{slugToTitle(from)}</Link>)
    </span>
  );
}

/** What a redirect page shown as itself says about where it points, and why it was not followed. */
export function RedirectNotice({ redirect }: { redirect: ShownRedirect }) {
  const target = <WikiLink slug={redirect.target} exists={redirect.targetExists} />;
  let message;
  switch (redirect.why) {
    case "asked":
      message = <>This page is a redirect to {target}.</>;
      break;
    case "missing":
      message = <>This page is a redirect to {target}, which does not exist yet.</>;
      break;
    case "double":
      message = (
        <>
          This is a double redirect to {target}, which itself redirects to <WikiLink slug={redirect.next} exists />: it is not followed.
          Edit this page to point it at the final page.
        </>
      );
      break;
    case "self":
      message = <>This page redirects to itself: it is not followed.</>;
      break;
    default:
      return redirect satisfies never;
  }
  return (
    <p className="notice" role="note" data-testid="redirect-notice">
      ↳ {message}
    </p>
  );
}
