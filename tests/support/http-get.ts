import { request } from "node:http";

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A plain GET with node:http rather than fetch: it can leave from a chosen
 * loopback address (127.0.0.2 is a second client to a server on 127.0.0.1)
 * and sends the path as given, percent-escapes included.
 */
export function httpGet(url: string, options: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: "GET", headers: options.headers, localAddress: options.localAddress, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString("utf8") }));
      incoming.on("error", reject);
    });
    outgoing.on("error", (error) => reject(new Error(`GET ${url}: ${error.message}`, { cause: error })));
    outgoing.end();
  });
}
