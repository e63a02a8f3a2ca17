import { z } from "zod";
import { SlugError, titlePrefixToSlugPrefix } from "../../common/slug";
import { RECENT_CHANGES_MAX_LIMIT, type RecentChangesFilter } from "../recent-changes";
import { flagParam, integerParam } from "./params";

// Account names are at most this long (origin/auth/accounts.ts): a longer one names nobody.
const MAX_NAME_LENGTH = 64;

/** A form sends its empty fields as "": an empty filter is no filter. */
const blankAsAbsent = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

/**
 * The query of GET /api/recent-changes and of the /recent-changes page,
 * which keeps its filters in its URL in the same words (issue 22):
 * `limit`, `since`, `prefix` (a page-name prefix as typed), `user`,
 * `hideadmins=1`, `hidebots=1`. A bad value is a 400 naming the parameter.
 */
export const recentChangesQuery = z
  .object({
    limit: integerParam(1, RECENT_CHANGES_MAX_LIMIT).optional(),
    since: z.iso
      .datetime({ offset: true, error: (issue) => `must be an ISO 8601 date-time such as 2026-11-22T18:00:00Z, got ${JSON.stringify(issue.input)}` })
      .transform((value) => new Date(value))
      .optional(),
    prefix: z.preprocess(
      blankAsAbsent,
      z
        .string()
        .transform((value, context) => {
          try {
            return titlePrefixToSlugPrefix(value);
          } catch (error) {
            if (!(error instanceof SlugError)) throw error;
            context.addIssue({ code: "custom", message: error.message });
            return z.NEVER;
          }
        })
        .optional(),
    ),
    user: z.preprocess(blankAsAbsent, z.string().trim().max(MAX_NAME_LENGTH, `may hold at most ${MAX_NAME_LENGTH} characters`).optional()),
    hideadmins: flagParam.optional(),
    hidebots: flagParam.optional(),
  })
  .transform(({ limit, since, prefix, user, hideadmins, hidebots }): RecentChangesFilter & { limit?: number } => ({
    limit,
    since,
    slugPrefix: prefix,
    user,
    hideAdmins: hideadmins,
    hideBots: hidebots,
  }));
