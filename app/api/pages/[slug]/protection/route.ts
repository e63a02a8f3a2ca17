import { handleSetProtection } from "@/origin/http/protection";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function PUT(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  return handleSetProtection(await getOrigin(), request, await params);
}
