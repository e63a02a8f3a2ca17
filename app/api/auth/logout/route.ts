import { handleLogout } from "@/origin/http/auth";

export function POST(): Response {
  return handleLogout();
}
