/**
 * Which content codings Next.js's compression (gzip or deflate, chosen from
 * Accept-Encoding) could answer a request with, reduced to what decides it:
 * the q-values and the order of gzip, deflate, identity and "*". Two requests
 * with the same key get the same coding, so a key in the ETag keeps one tag
 * one body; "br, zstd" and spacing, which Next ignores, do not split a tag.
 */
const DECIDING = new Set(["gzip", "deflate", "identity", "*"]);

export function codingKey(acceptEncoding: string | string[] | undefined): string {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(",") : (acceptEncoding ?? "");
  const deciding: string[] = [];
  for (const part of header.split(",")) {
    const [name = "", ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    if (!DECIDING.has(name)) continue;
    const q = parameters.find((parameter) => parameter.startsWith("q="))?.slice(2) ?? "1";
    deciding.push(`${name};q=${Number.isFinite(Number(q)) ? Number(q) : q}`);
  }
  return deciding.join(",");
}
