import { handleHealth } from "@/origin/http/health";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return handleHealth();
}
