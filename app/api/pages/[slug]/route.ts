import { handleGetPage } from "@/origin/http/reads";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handleGetPage(await getOrigin(), request, await params);
}
