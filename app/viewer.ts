import { cookies } from "next/headers";
import { cache } from "react";
import type { Identity } from "@/protocol/token";
import { UnauthorizedError } from "@/origin/errors";
import { SESSION_COOKIE, sessionIdentity } from "@/origin/http/auth";
import { getOrigin } from "@/origin/runtime";

/** Who is looking at this page: the session cookie's account, or null. Once per request. */
export const currentViewer = cache(async (): Promise<Identity | null> => {
  const session = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!session) return null;
  // sessionIdentity reads the cookie from a Request, as the API routes hand it one.
  const request = new Request("http://weirwood.local/", { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
  try {
    return await sessionIdentity(await getOrigin(), request);
  } catch (error) {
    if (error instanceof UnauthorizedError) return null;
    throw error;
  }
});
