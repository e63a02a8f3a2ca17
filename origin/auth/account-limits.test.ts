import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../../tests/support/origin";
import { handleLogin, handleRegister } from "../http/auth";
import { PEER_HEADER } from "../http/client";

function post(url: string, body: unknown, address: string): Request {
  return new Request(`http://origin.test${url}`, {
    method: "POST",
    headers: { "content-type": "application/json", [PEER_HEADER]: address },
    body: JSON.stringify(body),
  });
}

/** The statuses of `count` logins in a row. */
async function logins(origin: TestOrigin, count: number, body: { name: string; password: string }, address: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await handleLogin(origin, post("/api/auth/login", body, address))).status);
  return statuses;
}

describe.each(testDatabases)("account limits on $name", (kind) => {
  // The default limits (docs/configuration.md), with cheap hashes so that 20 logins take no time.
  // Each test uses its own names and addresses.
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_SCRYPT_LOG_N: "10", ORIGIN_REGISTRATIONS_PER_ADDRESS: "10" });
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("20 failed logins in a row for one account end in 429 with Retry-After, even with the right password", async () => {
    expect((await handleRegister(origin, post("/api/auth/register", { name: "Ned", password: "winter is coming" }, "10.0.0.1"))).status).toBe(201);
    // From many addresses, so that only the account's own count can stop them.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(...(await logins(origin, 1, { name: "Ned", password: "wrong guess" }, `10.1.0.${i}`)));
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(10).fill(429)]);

    const locked = await handleLogin(origin, post("/api/auth/login", { name: "ned", password: "winter is coming" }, "10.2.0.1"));
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(origin.config.accounts.loginFailureWindowSeconds);
    expect(((await locked.json()) as { message: string }).message).toMatch(/too many failed logins for this account: wait \d+ s/);
    // Another account is not locked by Ned's failures.
    await handleRegister(origin, post("/api/auth/register", { name: "Catelyn", password: "family duty honor" }, "10.0.0.1"));
    expect(await logins(origin, 1, { name: "Catelyn", password: "family duty honor" }, "10.2.0.1")).toEqual([200]);
  });

  it("unknown names are limited alike, so a 429 does not tell which names exist", async () => {
    const statuses = await logins(origin, 20, { name: "Nobody", password: "a girl has no name" }, "10.0.0.2");
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(10).fill(429)]);
  });

  it("one address guessing many names is stopped by the per-address limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push(...(await logins(origin, 1, { name: `Guess ${i}`, password: "hodor hodor" }, "10.0.0.3")));
    expect(statuses).toEqual([...Array<number>(50).fill(401), ...Array<number>(10).fill(429)]);
    // Another address still gets an answer.
    expect(await logins(origin, 1, { name: "Guess 0", password: "hodor hodor" }, "10.0.0.4")).toEqual([401]);
  });

  it("a right password ends the account's count of failures", async () => {
    await handleRegister(origin, post("/api/auth/register", { name: "Arya", password: "valar morghulis" }, "10.0.0.5"));
    expect(await logins(origin, 9, { name: "Arya", password: "wrong guess" }, "10.0.0.5")).toEqual(Array<number>(9).fill(401));
    expect(await logins(origin, 1, { name: "Arya", password: "valar morghulis" }, "10.0.0.5")).toEqual([200]);
    expect(await logins(origin, 9, { name: "Arya", password: "wrong guess" }, "10.0.0.5")).toEqual(Array<number>(9).fill(401));
  });

  it("registrations are limited per address: the 11th from one address gets 429, another address is unaffected", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await handleRegister(origin, post("/api/auth/register", { name: `Bot ${i}`, password: "spam spam spam" }, "10.0.0.6"))).status);
    }
    expect(statuses).toEqual([...Array<number>(10).fill(201), 429]);
    const refused = await handleRegister(origin, post("/api/auth/register", { name: "Bot extra", password: "spam spam spam" }, "10.0.0.6"));
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await origin.db.prisma.user.count({ where: { name: { startsWith: "Bot" } } })).toBe(10);
    expect((await handleRegister(origin, post("/api/auth/register", { name: "Gendry", password: "the smith's son" }, "10.0.0.7"))).status).toBe(201);
  });
});
