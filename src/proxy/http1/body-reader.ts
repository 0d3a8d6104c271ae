// Delivers a message body as it streams, for the request and response parsers: Content-Length,
// chunked (through ChunkedDecoder) or, for responses only, delimited by the connection closing.
// Chunks handed to `onBody` are views into the caller's buffer, never copies.

import { ChunkedDecoder } from './chunked.ts';
import type { RejectReason } from './errors.ts';
import type { FieldReader } from './field-reader.ts';
import type { Http1Limits } from './limits.ts';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export const BODY_CLOSE = 3;

export interface BodySink {
  onBody(chunk: Buffer): void;
}

export class BodyReader {
  reason: RejectReason = 'body-too-large';
  isDone = false;
  /** Trailer fields of a chunked body, or null. */
  trailers: string[] | null = null;

  readonly #sink: BodySink;
  readonly #chunked: ChunkedDecoder;
  readonly #maxBytes: number;
  #kind = BODY_NONE;
  #left = 0;

  constructor(limits: Http1Limits, fields: FieldReader, sink: BodySink) {
    this.#sink = sink;
    this.#chunked = new ChunkedDecoder(limits, fields);
    this.#maxBytes = limits.maxBodyBytes;
  }

  /** `length` is the Content-Length for BODY_LENGTH, ignored otherwise. */
  begin(kind: number, length: number): void {
    this.#kind = kind;
    this.#left = kind === BODY_CLOSE ? this.#maxBytes : length;
    this.isDone = kind === BODY_NONE || (kind === BODY_LENGTH && length === 0);
    this.trailers = null;
    if (kind === BODY_CHUNKED) this.#chunked.begin();
  }

  /**
   * Consumes body bytes from `buf[start, end)`; returns the next index, or -1 on error. Emits at most one
   * chunk per call, so the owner can honour a pause between calls.
   */
  read(buf: Buffer, start: number, end: number): number {
    if (this.#kind !== BODY_CHUNKED) {
      const n = Math.min(end - start, this.#left);
      if (n === 0) {
        this.reason = 'body-too-large'; // only a close-delimited body can run out of allowance
        return -1;
      }
      this.#left -= n;
      if (this.#left === 0 && this.#kind === BODY_LENGTH) this.isDone = true;
      this.#sink.onBody(buf.subarray(start, start + n));
      return start + n;
    }
    const chunked = this.#chunked;
    if (chunked.dataLeft > 0) {
      const n = Math.min(end - start, chunked.dataLeft);
      chunked.dataDone(n);
      this.#sink.onBody(buf.subarray(start, start + n));
      return start + n;
    }
    const j = chunked.read(buf, start, end);
    if (j < 0) {
      this.reason = chunked.reason;
      return -1;
    }
    if (chunked.isDone) {
      this.isDone = true;
      this.trailers = chunked.trailers;
    }
    return j;
  }

  /** The connection ended: true when that completes the body (close-delimited), false when it cuts it. */
  finishAtEof(): boolean {
    return this.#kind === BODY_CLOSE;
  }
}
