import { slugToTitle, type Slug } from "@/common/slug";
import type { PageFrameProps } from "@/components/page/PageFrame";
import type { PageView } from "@/origin/pages";

/** What every tab of an existing page tells PageFrame about the page. */
export function existingPageFrame(slug: Slug, page: PageView): Pick<PageFrameProps, "slug" | "title" | "exists" | "protection"> {
  return {
    slug,
    title: page.title || slugToTitle(slug),
    exists: true,
    protection: page.protection,
  };
}
