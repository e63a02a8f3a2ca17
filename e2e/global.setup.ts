import { writeFileSync } from "node:fs";
import { expect, test as setup } from "@playwright/test";
import { adminAccountFile, PASSWORD } from "./support/accounts";
import { uniqueWord } from "./support/seed";

// The first account of a wiki is its admin: registered here, before any
// spec registers editors in parallel.
setup("register the wiki's admin", async ({ request }) => {
  const account = { name: `Admin ${uniqueWord("")}`, password: PASSWORD };
  const response = await request.post("/api/auth/register", { data: account });
  expect(response.status(), await response.text()).toBe(201);
  const { user } = (await response.json()) as { user: { role: string } };
  expect(user.role, "the e2e data folder must be fresh: the first account becomes the admin").toBe("admin");
  writeFileSync(adminAccountFile(), JSON.stringify(account));
});
