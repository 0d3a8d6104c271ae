// Minimal HTTP/1.1 framing for the benchmark, as the proxy frames a request to its peer: a head and a
// Content-Length body handed to the socket as one write. MessageReader finds where each message ends;
// both ends are ours, so it checks no more than that (src/proxy/http1 is the strict codec).

export const BODY_BYTES = 1024;
/** The destination the requests name: the Host header, and the HBONE tunnel's target. */
export const AUTHORITY = 'b.default.svc.cluster.local:8080';
export const HBONE_TARGET = '127.0.0.1:8080';

export const BODY = Buffer.alloc(BODY_BYTES, 'x');

/** A request id shaped like the UUID the proxy adds as x-request-id, unique per request. */
export function requestIdOf(n: number): string {
  return `6c3f0a52-9d1e-4b7a-8f00-${n.toString(16).padStart(12, '0')}`;
}

/** One request, head and 1 KiB body in a single buffer, ready for one write. */
export function encodeRequest(n: number): Buffer {
  const head =
    `POST /echo HTTP/1.1\r\nhost: ${AUTHORITY}\r\nuser-agent: alder-bench\r\naccept: */*\r\n` +
    `content-type: application/octet-stream\r\nx-request-id: ${requestIdOf(n)}\r\n` +
    `x-forwarded-proto: http\r\ncontent-length: ${BODY_BYTES}\r\n\r\n`;
  const out = Buffer.allocUnsafe(head.length + BODY_BYTES); // the head is ASCII: one byte a character
  out.write(head, 0, 'latin1');
  BODY.copy(out, head.length);
  return out;
}

/** B's fixed answer, built once: 200 with a 1 KiB body. */
export const RESPONSE = Buffer.concat([
  Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${BODY_BYTES}\r\n\r\n`,
    'latin1',
  ),
  BODY,
]);

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('\r\ncontent-length:', 'latin1');
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Splits a byte stream into messages. Calls `onMessage` with the status code (0 for requests) when a
 * message's body has fully arrived. Header names are matched in lower case: both ends write them so.
 */
export class MessageReader {
  readonly #onMessage: (status: number) => void;
  readonly #isResponse: boolean;
  /** The start of a head that has not fully arrived yet. */
  #partial: Buffer | undefined;
  /** Body bytes still to come, or -1 while reading a head. */
  #bodyLeft = -1;
  #status = 0;
  /** Set when the stream cannot be framed; the owner should close the connection. */
  isBroken = false;

  constructor(isResponse: boolean, onMessage: (status: number) => void) {
    this.#isResponse = isResponse;
    this.#onMessage = onMessage;
  }

  feed(chunk: Buffer): void {
    let buf = chunk;
    let i = 0;
    while (i < buf.length && !this.isBroken) {
      if (this.#bodyLeft >= 0) {
        const take = Math.min(this.#bodyLeft, buf.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#complete();
        continue;
      }
      if (this.#partial !== undefined) {
        buf = Buffer.concat([this.#partial, buf.subarray(i)]);
        i = 0;
        this.#partial = undefined;
      }
      const end = buf.indexOf(HEAD_END, i);
      if (end === -1) {
        if (buf.length - i > MAX_HEAD_BYTES) this.isBroken = true;
        else this.#partial = Buffer.from(buf.subarray(i)); // copied: the chunk's memory may be reused
        return;
      }
      this.#status = this.#isResponse ? statusOf(buf, i) : 0;
      this.#bodyLeft = contentLengthOf(buf, i, end);
      i = end + HEAD_END.length;
      if (this.#bodyLeft === 0) this.#complete();
    }
  }

  #complete(): void {
    this.#bodyLeft = -1;
    this.#onMessage(this.#status);
  }
}

function statusOf(buf: Buffer, start: number): number {
  // "HTTP/1.1 200 …": three digits at offset 9.
  const d = (k: number) => (buf[start + 9 + k] ?? 0) - 48;
  return d(0) * 100 + d(1) * 10 + d(2);
}

function contentLengthOf(buf: Buffer, start: number, end: number): number {
  const at = buf.indexOf(CONTENT_LENGTH, start);
  if (at === -1 || at > end) return 0;
  let n = 0;
  for (let i = at + CONTENT_LENGTH.length; i < end; i++) {
    const c = buf[i] ?? 13;
    if (c === 32) continue;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}
