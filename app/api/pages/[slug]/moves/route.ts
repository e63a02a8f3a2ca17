import { handleListMoves } from "@/origin/http/moves";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handleListMoves(await getOrigin(), request, await params);
}
