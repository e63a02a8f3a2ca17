import { handleJwks } from "@/origin/http/auth";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

/** Served at /.well-known/jwks.json (a rewrite in next.config.js). */
export async function GET(): Promise<Response> {
  return handleJwks(await getOrigin());
}
