import { handleWatchlist } from "@/origin/http/watchlist";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleWatchlist(await getOrigin(), request);
}
