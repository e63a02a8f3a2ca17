import { createHash } from "node:crypto";

/**
 * Validators and freshness for the public reads (RFC 9110 §8.8.3, §13.1.2;
 * RFC 9111 §5.2.2). A public answer holds nothing about who asked: shared
 * caches hand it to everyone.
 */

/** A strong entity tag over `parts`: equal parts, equal tag; anything else differs. */
export function strongEtag(parts: unknown): string {
  return `"${createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 32)}"`;
}

/**
 * Whether If-None-Match names `etag`, so that a 304 answers. The weak
 * comparison, as RFC 9110 §13.1.2 prescribes for If-None-Match: a cache
 * that stored our answer under W/"…" still revalidates.
 */
export function ifNoneMatchHits(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//u, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}

/** Cache-Control of an answer every shared cache may keep `maxAgeSeconds` and serve stale while it asks again. */
export function publicCacheControl(options: { maxAgeSeconds: number; staleSeconds: number }): string {
  // max-age=0 keeps browsers asking (cheaply, with If-None-Match); s-maxage is the shared caches' bound.
  return `public, max-age=0, s-maxage=${options.maxAgeSeconds}, stale-while-revalidate=${options.staleSeconds}`;
}

/** For answers that name or depend on who asked: no cache may keep them. */
export const PRIVATE_NO_STORE = "private, no-store";

/** Headers of an answer that names who asked: no cache may keep it, and none may hand it to another cookie. */
export const PERSONAL_HEADERS = { "cache-control": PRIVATE_NO_STORE, vary: "Cookie" } as const;

/**
 * A JSON read as a shared cache may keep it: its tag is the body's own hash,
 * so two answers with one tag are byte for byte the same, and a matching
 * If-None-Match gets a 304 without the body.
 */
export function cacheableJson(request: Request, body: unknown, cacheControl: string): Response {
  const text = JSON.stringify(body);
  const etag = strongEtag(text);
  const headers = { etag, "cache-control": cacheControl };
  if (ifNoneMatchHits(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  return new Response(text, { headers: { ...headers, "content-type": "application/json; charset=utf-8" } });
}
