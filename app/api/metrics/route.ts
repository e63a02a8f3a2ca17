import { handleMetrics } from "@/origin/http/metrics";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return handleMetrics(await getOrigin());
}
