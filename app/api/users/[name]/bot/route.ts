import { handleSetBot } from "@/origin/http/bots";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function PUT(request: Request, { params }: { params: Promise<{ name: string }> }): Promise<Response> {
  return handleSetBot(await getOrigin(), request, await params);
}
