import type { Dispatcher } from "undici";
import type { Answer } from "./http1-connection";

/**
 * One keep-alive connection of the readers on undici's `Client` (one
 * request at a time: pipelining 1), answering what the readers need of a
 * view: status, X-Cache-Status, body bytes. A Client per connection rather
 * than one `Pool`, because the readers already keep their free connections
 * on a stack, and a Pool looks for a free client by scanning all of them
 * at every request. It goes through `dispatch` with a handler that counts
 * the body's chunks, not `request()`, which would wrap each body in a
 * stream only to throw it away. undici's timeouts are per phase (waiting
 * for the head, then between body chunks), not for the whole answer.
 */
export class UndiciConnection {
  constructor(private readonly client: Dispatcher) {}

  get(path: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const answer: Answer = { status: 0, cache: "none", bytes: 0 };
      this.client.dispatch(
        { method: "GET", path, headers },
        {
          // Its presence is what tells undici this is a handler of the current (controller) kind.
          onRequestStart() {},
          onResponseStart(_controller, status, responseHeaders) {
            answer.status = status;
            const cache = responseHeaders["x-cache-status"];
            if (cache !== undefined) answer.cache = String(cache);
          },
          onResponseData(_controller, chunk) {
            answer.bytes += chunk.length;
          },
          onResponseEnd: () => resolve(answer),
          onResponseError: (_controller, error) => reject(error),
        },
      );
    });
  }

  close(): void {
    void this.client.destroy();
  }
}
