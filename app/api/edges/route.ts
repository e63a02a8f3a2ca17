import { handleListEdges } from "@/origin/http/edges";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return handleListEdges(await getOrigin());
}
