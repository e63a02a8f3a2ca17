import { handleUserContributions } from "@/origin/http/reads";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }): Promise<Response> {
  return handleUserContributions(await getOrigin(), request, await params);
}
