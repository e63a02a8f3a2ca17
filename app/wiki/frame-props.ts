import { slugToTitle, type Slug } from "@/common/slug";
import type { PageFrameProps } from "@/components/page/PageFrame";
import type { Identity } from "@/protocol/token";
import type { PageView } from "@/origin/pages";
import { writePermission } from "@/origin/protection";

/** What every tab of an existing page tells PageFrame about the page and its viewer. */
export function existingPageFrame(
  slug: Slug,
  page: PageView,
  viewer: Identity | null,
): Pick<PageFrameProps, "slug" | "title" | "exists" | "protection" | "cannotEditBecause" | "loggedIn" | "isAdmin"> {
  const permission = writePermission(viewer, page.protection);
  return {
    slug,
    title: page.title || slugToTitle(slug),
    exists: true,
    protection: page.protection,
    cannotEditBecause: permission.canWrite ? null : permission.reason,
    loggedIn: viewer !== null,
    isAdmin: viewer?.role === "admin",
  };
}
