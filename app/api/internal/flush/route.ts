import { handleFlush } from "@/origin/http/flush";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  return handleFlush(await getOrigin(), request);
}
