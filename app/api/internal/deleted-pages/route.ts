import { handleInternalDeletedPages } from "@/origin/http/deletion";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  return handleInternalDeletedPages(await getOrigin(), request);
}
