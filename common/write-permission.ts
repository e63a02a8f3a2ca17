import type { Identity } from "../protocol/token";

/** Whether `identity` (or an anonymous visitor, null) may write a page of this protection, and why not. */
export function writePermission(
  identity: Pick<Identity, "role"> | null,
  protection: "none" | "admin",
): { canWrite: true } | { canWrite: false; reason: string } {
  if (!identity) return { canWrite: false, reason: "Log in to edit this page." };
  if (identity.role === "reader") return { canWrite: false, reason: "Your account may read but not edit pages." };
  if (protection === "admin" && identity.role !== "admin") {
    return { canWrite: false, reason: "This page is protected: only admins can edit it." };
  }
  return { canWrite: true };
}
