import { handleGetRevision } from "@/origin/http/reads";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(
  request: Request,
  { params }: { params: Promise<{ slug: string; number: string }> },
): Promise<Response> {
  return handleGetRevision(await getOrigin(), request, await params);
}
