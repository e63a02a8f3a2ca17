import type { Identity } from "../../protocol/token";

/**
 * A page's protection level, as the origin stores it (prisma `Protection`,
 * origin/pages.ts `PageProtection`): "none" lets any editor or admin write,
 * "admin" only admins.
 */
export type PageProtection = "none" | "admin";

export type WritePermission = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: WritePermission = { allowed: true };

/**
 * Whether `identity` may edit a page protected at `protection`. Reasons are
 * shown to the person (y-protocols auth "permission denied" message), so
 * they say what to do, and fit a WebSocket close reason (123 bytes).
 */
export function writePermission(identity: Pick<Identity, "role">, protection: PageProtection): WritePermission {
  switch (identity.role) {
    case "reader":
      return { allowed: false, reason: "readers cannot edit: ask an admin for editor rights" };
    case "editor":
      return protection === "none"
        ? ALLOWED
        : { allowed: false, reason: "this page is protected: only admins can edit it" };
    case "admin":
      return ALLOWED;
    default:
      return unknownRole(identity.role);
  }
}

/** Roles come from a verified token, so an unknown one is a version mismatch: refuse, never allow. */
function unknownRole(role: never): WritePermission {
  return { allowed: false, reason: `unknown role ${JSON.stringify(role)}: sign in again to get a current token` };
}
