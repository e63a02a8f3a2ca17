import { handleListDeletions } from "@/origin/http/deletion";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleListDeletions(await getOrigin(), request);
}
