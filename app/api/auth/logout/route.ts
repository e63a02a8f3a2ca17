import { handleLogout } from "@/origin/http/auth";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  return handleLogout(await getOrigin(), request);
}
