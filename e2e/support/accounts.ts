import { readFileSync } from "node:fs";
import path from "node:path";
import { type APIRequestContext, expect } from "@playwright/test";
import { e2eDataDir } from "./env";
import { uniqueWord } from "./seed";

export const PASSWORD = "correct horse battery staple";

export interface Account {
  name: string;
  password: string;
}

/**
 * Registers a new editor through the origin's API in `request`'s cookie jar
 * (a page's `page.request` shares its browser context's cookies, so the page
 * is then logged in).
 */
export async function registerEditor(request: APIRequestContext, prefix = "Editor"): Promise<Account> {
  const account = { name: `${prefix} ${uniqueWord("")}`, password: PASSWORD };
  const response = await request.post("/api/auth/register", { data: account });
  expect(response.status(), await response.text()).toBe(201);
  expect(((await response.json()) as { user: { role: string } }).user.role).toBe("editor");
  return account;
}

export async function logIn(request: APIRequestContext, account: Account): Promise<void> {
  const response = await request.post("/api/auth/login", { data: account });
  expect(response.status(), await response.text()).toBe(200);
}

/** The admin e2e/global.setup.ts registered first (the first account of a wiki is its admin). */
export function adminAccount(): Account {
  return JSON.parse(readFileSync(adminAccountFile(), "utf8")) as Account;
}

export function adminAccountFile(): string {
  return path.join(e2eDataDir(), "e2e-admin.json");
}
