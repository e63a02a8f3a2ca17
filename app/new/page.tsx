import { redirect } from "next/navigation";
import { pageHref } from "@/common/markdown";
import { SlugError, titleToSlug } from "@/common/slug";
import { NewPageForm } from "@/components/page/NewPageForm";

export const dynamic = "force-dynamic";
export const metadata = { title: "New page" };

type Props = { searchParams: Promise<{ title?: string | string[] }> };

export default async function NewPage({ searchParams }: Props) {
  const { title } = await searchParams;
  let error: string | undefined;
  if (typeof title === "string" && title.trim() !== "") {
    try {
      // The slug is the title as a wiki maps it: spaces to "_", first letter capital.
      redirect(pageHref(titleToSlug(title), "edit"));
    } catch (failure) {
      if (!(failure instanceof SlugError)) throw failure;
      error = failure.message;
    }
  }
  return (
    <section className="narrow">
      <h1>New page</h1>
      <NewPageForm title={typeof title === "string" ? title : ""} error={error} />
    </section>
  );
}
