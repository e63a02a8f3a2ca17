import { handleReady } from "@/origin/http/health";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return handleReady(await getOrigin());
}
