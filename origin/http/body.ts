import { BadRequestError, PayloadTooLargeError } from "../errors";

/**
 * Reads a request body up to `maxBytes`, refusing early on a declared
 * Content-Length and stopping the read as soon as the limit is passed, so an
 * oversized body never sits whole in memory.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new PayloadTooLargeError(`body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new PayloadTooLargeError(`body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const body = await readBody(request, maxBytes);
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (error) {
    throw new BadRequestError(`body is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}
