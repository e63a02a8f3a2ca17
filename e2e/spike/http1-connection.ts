import { connect, type Socket } from "node:net";

/**
 * One keep-alive HTTP/1.1 connection that sends GETs one at a time and reads
 * just what the readers need of an answer (status, X-Cache-Status, body
 * size): node:http's client costs about 75 µs of CPU per request on this
 * machine, which at 10,000 views/s is most of a core taken from the server
 * being measured (docs/benchmarks.md, "Readers through a cache"). Bodies
 * are counted, not kept; Content-Length, chunked and close-delimited bodies
 * are read. A socket error, a timeout, or a `Connection: close` drops the
 * socket; the next request opens another.
 *
 * Kept rather than undici (issue 21, measured 2026-12-04, docs/benchmarks.md
 * "Readers through a cache"): undici 7's Client per connection, through
 * `dispatch`, cost 54 µs of CPU a view against this client's 46 (1.18×,
 * six runs each, alternated, 10,000 views/s offered through nginx), but
 * answered 7,700–9,500 views/s where this one answered 9,500–10,000 (lower
 * in all six pairs): its first second answered 2,200–4,700 of the 10,000
 * views offered (this one 6,000–10,000), and it took 3–4 s to keep up, also
 * at 5,000/s offered; the spike's views skipped meanwhile would read as the
 * server's.
 * One undici Pool per thread did no better (58 µs, 7,300–9,300/s).
 */

export interface Answer {
  status: number;
  /** X-Cache-Status, or `none`. */
  cache: string;
  /** Body bytes as sent (gzipped, chunk framing excluded). */
  bytes: number;
}

const CRLF = Buffer.from("\r\n");
const HEADERS_END = Buffer.from("\r\n\r\n");

type BodyState =
  | { kind: "length"; left: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-end" }
  | { kind: "trailers" }
  | { kind: "until-close" };

interface InFlight {
  resolve(answer: Answer): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  answer?: Answer;
  close?: boolean;
  body?: BodyState;
}

export class Http1Connection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private current: InFlight | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  get(path: string, headers: Record<string, string>): Promise<Answer> {
    if (this.current) return Promise.reject(new Error("http1: one request at a time on a connection"));
    const socket = this.socket ?? this.open();
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      this.current = { resolve, reject, timer };
      let head = `GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      socket.write(`${head}\r\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.read();
    });
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.current?.body?.kind === "until-close") this.finish();
      else this.fail(new Error("connection closed before the answer"));
    });
    return socket;
  }

  private fail(error: Error): void {
    this.close();
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    clearTimeout(current.timer);
    current.reject(error);
  }

  private finish(): void {
    const current = this.current!;
    this.current = undefined;
    clearTimeout(current.timer);
    if (current.close) this.close();
    current.resolve(current.answer!);
  }

  /** Consumes what has arrived: the head, then the body as its framing says. */
  private read(): void {
    const current = this.current;
    if (!current) {
      if (this.buffered.length > 0) this.fail(new Error("bytes arrived with no request waiting"));
      return;
    }
    if (!current.answer) {
      const end = this.buffered.indexOf(HEADERS_END);
      if (end < 0) return;
      const lines = this.buffered.toString("latin1", 0, end).split("\r\n");
      this.buffered = this.buffered.subarray(end + 4);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/u.exec(lines[0]!)?.[1]);
      if (!status) return this.fail(new Error(`not an HTTP answer: ${JSON.stringify(lines[0])}`));
      const header = (name: string) => lines.find((line) => line.slice(0, name.length + 1).toLowerCase() === `${name}:`)?.slice(name.length + 1).trim();
      current.answer = { status, cache: header("x-cache-status") ?? "none", bytes: 0 };
      current.close = header("connection")?.toLowerCase() === "close";
      const length = header("content-length");
      current.body =
        status === 304 || status === 204 || (status >= 100 && status < 200)
          ? { kind: "length", left: 0 }
          : header("transfer-encoding")?.toLowerCase().includes("chunked")
            ? { kind: "chunk-size" }
            : length !== undefined
              ? { kind: "length", left: Number(length) }
              : { kind: "until-close" };
    }
    const answer = current.answer;
    for (;;) {
      const body = current.body!;
      if (body.kind === "length" || body.kind === "chunk-data") {
        const taken = Math.min(body.left, this.buffered.length);
        answer.bytes += taken;
        body.left -= taken;
        this.buffered = this.buffered.subarray(taken);
        if (body.left > 0) return;
        if (body.kind === "length") return this.finish();
        current.body = { kind: "chunk-end" };
      } else if (body.kind === "until-close") {
        answer.bytes += this.buffered.length;
        this.buffered = Buffer.alloc(0);
        return;
      } else {
        const eol = this.buffered.indexOf(CRLF);
        if (eol < 0) return;
        const line = this.buffered.toString("latin1", 0, eol);
        this.buffered = this.buffered.subarray(eol + 2);
        if (body.kind === "chunk-end") current.body = { kind: "chunk-size" };
        else if (body.kind === "trailers") {
          if (line === "") return this.finish();
        } else {
          const size = Number.parseInt(line, 16);
          if (!Number.isFinite(size)) return this.fail(new Error(`bad chunk size ${JSON.stringify(line)}`));
          current.body = size === 0 ? { kind: "trailers" } : { kind: "chunk-data", left: size };
        }
      }
    }
  }
}
