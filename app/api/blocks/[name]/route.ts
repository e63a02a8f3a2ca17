import { handleUnblock } from "@/origin/http/blocks";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function DELETE(request: Request, { params }: { params: Promise<{ name: string }> }): Promise<Response> {
  return handleUnblock(await getOrigin(), request, await params);
}
