import { handleBlockLog } from "@/origin/http/blocks";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleBlockLog(await getOrigin(), request);
}
