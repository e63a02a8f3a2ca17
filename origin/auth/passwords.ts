import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt's cost. N = 2^17, r = 8, p = 1 is OWASP's current guidance: 128 MiB
 * and ~0.6 s a hash on this project's machines (`node -e` in docs/security.md),
 * which is what slows guessing. The cost travels in each stored hash, so it
 * can be raised later: older hashes are redone at their owner's next login.
 */
export interface ScryptCost {
  logN: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { logN: 17, r: 8, p: 1 };
const KEY_BYTES = 32;

export function scryptCost(logN: number): ScryptCost {
  return { ...DEFAULT_SCRYPT_COST, logN };
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node refuses above `maxmem` (32 MiB by default), so allow twice that.
  const maxmem = 2 * 128 * n * r * Math.max(1, p);
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_BYTES, { N: n, r, p, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$key`, salt and key in base64: the cost travels with the hash. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const n = 2 ** cost.logN;
  const key = await derive(password, salt, n, cost.r, cost.p);
  return ["scrypt", n, cost.r, cost.p, salt.toString("base64"), key.toString("base64")].join("$");
}

interface StoredHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): StoredHash {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) {
    throw new Error(`stored password hash has an unknown format (scheme ${JSON.stringify(scheme)})`);
  }
  return { n: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, "base64"), key: Buffer.from(key, "base64") };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const hash = parseHash(stored);
  const actual = await derive(password, hash.salt, hash.n, hash.r, hash.p);
  return actual.length === hash.key.length && timingSafeEqual(actual, hash.key);
}

/** Whether a stored hash is cheaper than `cost` and should be redone while the password is at hand. */
export function needsRehash(stored: string, cost: ScryptCost): boolean {
  const hash = parseHash(stored);
  return hash.n < 2 ** cost.logN || hash.r < cost.r || hash.p < cost.p;
}

/**
 * A well-formed hash of `cost` that no password matches: checking a password
 * against it for a name that has no account costs what a real check costs,
 * so the answer's timing does not tell which names exist.
 */
export function dummyHash(cost: ScryptCost): string {
  return ["scrypt", 2 ** cost.logN, cost.r, cost.p, Buffer.alloc(16).toString("base64"), Buffer.alloc(KEY_BYTES).toString("base64")].join("$");
}
