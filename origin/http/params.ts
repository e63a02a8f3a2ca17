import { z } from "zod";
import { parseSlug, type Slug, SlugError } from "../../common/slug";
import { decodeChangeCursor } from "../change-cursor";
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

export function integerParam(min: number, max: number) {
  return z
    .string()
    .refine((value) => /^\d{1,10}$/u.test(value) && Number(value) >= min && Number(value) <= max, {
      error: (issue) => `must be an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number);
}

/** A switch in a query string: "1" or "true" on, "0", "false" or "" off (an unchecked box sends nothing). */
export const flagParam = z.enum(["1", "true", "0", "false", ""], { error: (issue) => `must be 1 or 0, got ${JSON.stringify(issue.input)}` }).transform((value) => value === "1" || value === "true");

/** The `next` a list of changes handed out, to continue it. */
export const changeCursorParam = z.string().transform((value) => decodeChangeCursor(value));

export function queryOf(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}
