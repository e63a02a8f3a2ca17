import { handleMovePage } from "@/origin/http/moves";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function POST(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handleMovePage(await getOrigin(), request, await params);
}
