import { parseSlug, type Slug, SlugError } from "../../common/slug";
import { BadRequestError } from "../errors";

// Next.js hands route params already percent-decoded (once); decoding again
// would turn "%2541" into another page's slug.
export function slugParam(raw: string): Slug {
  try {
    return parseSlug(raw);
  } catch (error) {
    if (error instanceof SlugError) throw new BadRequestError(`slug: ${error.message}`, { cause: error });
    throw error;
  }
}
