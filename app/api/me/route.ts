import { handleViewer } from "@/origin/http/auth";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleViewer(await getOrigin(), request);
}
