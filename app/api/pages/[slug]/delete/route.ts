import { handleDeletePage } from "@/origin/http/deletion";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function POST(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handleDeletePage(await getOrigin(), request, await params);
}
