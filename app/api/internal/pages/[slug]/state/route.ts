import { handlePageState } from "@/origin/http/page-state";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handlePageState(await getOrigin(), request, await params);
}
