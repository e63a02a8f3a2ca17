import { handleSearch } from "@/origin/http/reads";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleSearch(await getOrigin(), request);
}
