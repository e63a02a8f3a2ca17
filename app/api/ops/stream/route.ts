import { handleOpsStream } from "@/origin/http/ops-stream";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleOpsStream(await getOrigin(), request);
}
