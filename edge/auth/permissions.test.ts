import { describe, expect, it } from "vitest";
import type { Role } from "../../protocol/token";
import { type PageProtection, writePermission, type WritePermission } from "./permissions";

const READER_REFUSED = { allowed: false, reason: "readers cannot edit: ask an admin for editor rights" };
const PROTECTED_REFUSED = { allowed: false, reason: "this page is protected: only admins can edit it" };

describe("write permission", () => {
  const table: [Role, PageProtection, WritePermission][] = [
    ["reader", "none", READER_REFUSED],
    ["reader", "admin", READER_REFUSED],
    ["editor", "none", { allowed: true }],
    ["editor", "admin", PROTECTED_REFUSED],
    ["admin", "none", { allowed: true }],
    ["admin", "admin", { allowed: true }],
  ];

  it.each(table)("a %s on a page protected at %j gets %j", (role, protection, expected) => {
    expect(writePermission({ role }, protection)).toEqual(expected);
  });

  it("a role this edge does not know is refused, never allowed", () => {
    const decision = writePermission({ role: "owner" as Role }, "none");

    expect(decision).toEqual({ allowed: false, reason: 'unknown role "owner": sign in again to get a current token' });
  });

  it("an editor is refused on a protection level this edge does not know", () => {
    expect(writePermission({ role: "editor" }, "semi" as PageProtection)).toEqual(PROTECTED_REFUSED);
  });
});
