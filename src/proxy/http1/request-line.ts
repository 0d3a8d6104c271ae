// Reads a request line (RFC 9112 §3) incrementally: exactly `method SP target SP HTTP/d.d CRLF`, one
// space each, nothing else, and a method the limits allow (methods.ts). Used by RequestParser; the
// target's form and Host rules are checked there.

import {
  CR,
  HTAB,
  LF,
  latin1,
  SP,
  TARGET,
  TARGET_CHECK,
  TARGET_OK,
  TARGET_QUERY,
  TOKEN,
} from './char-tables.ts';
import type { RejectReason } from './errors.ts';
import type { Http1Limits } from './limits.ts';

const START = 0;
const START_LF = 1;
const METHOD = 2;
const TARGET_START = 3;
const IN_TARGET = 4;
const VERSION = 5;
const LINE_END = 6;
const LINE_LF = 7;

const VERSION_BYTES = [0x48, 0x54, 0x54, 0x50, 0x2f, -1, 0x2e, -1]; // "HTTP/" DIGIT "." DIGIT
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'].map(
  (m) => [m, Buffer.from(m, 'latin1')] as const,
);

export class RequestLineReader {
  method = '';
  target = '';
  versionMajor = 1;
  versionMinor = 1;
  /** The target holds '%', '[' or ']', which target.ts must look at. */
  needsPathCheck = false;
  /** Bytes the line took, CRLF and any leading empty lines included (they count toward the head). */
  bytes = 0;
  reason: RejectReason = 'request-line-invalid';
  isDone = false;

  readonly #maxBytes: number;
  readonly #maxMethodBytes: number;
  readonly #methods: ReadonlySet<string>;
  #state = START;
  #methodLeft = 0;
  #left = 0;
  #tok = 0;
  #partial = '';
  #isSplit = false;
  #isInQuery = false;
  #versionPos = 0;

  constructor(limits: Http1Limits) {
    this.#maxBytes = limits.maxStartLineBytes;
    this.#maxMethodBytes = limits.maxMethodBytes;
    this.#methods = limits.methods;
    this.reset();
  }

  reset(): void {
    this.#state = START;
    this.#left = this.#maxBytes;
    this.isDone = false;
    this.needsPathCheck = false;
  }

  /** True when nothing of a request line has arrived yet (EOF here is a clean close). */
  get isIdle(): boolean {
    return this.#state === START && this.#left === this.#maxBytes;
  }

  /** Consumes `buf[start, end)` up to the end of the line; returns the next index, or -1 on error. */
  read(buf: Buffer, start: number, end: number): number {
    if (this.#state === START && this.#left === this.#maxBytes) {
      const j = this.#fastLine(buf, start, end);
      if (j > 0) return j;
    }
    let i = start;
    this.#tok = start;
    while (i < end) {
      const b = buf[i] as number;
      switch (this.#state) {
        case START:
          if (b === CR) {
            if (this.#left < 2) return this.#fail('request-line-too-long');
            this.#left -= 2;
            this.#state = START_LF;
            i++;
            break;
          }
          if (TOKEN[b] !== 1) {
            return this.#fail(
              b === SP || b === HTAB ? 'request-line-whitespace' : b === LF ? 'bare-lf' : 'method-invalid',
            );
          }
          this.#state = METHOD;
          this.#methodLeft = this.#maxMethodBytes;
          this.#tok = i;
          this.#isSplit = false;
          break;
        case START_LF:
          if (b !== LF) return this.#fail('bare-cr');
          this.#state = START;
          i++;
          break;
        case METHOD: {
          const j = this.#scan(buf, i, end, TOKEN, this.#methodLeft);
          this.#methodLeft -= j - i;
          if (j === end) return end;
          const c = buf[j] as number;
          if (c === SP && this.#left > 0) {
            this.method = this.#token(buf, j, true);
            if (!this.#methods.has(this.method)) return this.#fail('method-unknown');
            this.#left--;
            this.#state = TARGET_START;
            i = j + 1;
            break;
          }
          if (c === CR) return this.#fail('request-line-invalid');
          if (c === LF) return this.#fail('bare-lf');
          if (this.#left === 0) return this.#fail('request-line-too-long');
          if (this.#methodLeft === 0 && TOKEN[c] === 1) {
            this.method = this.#token(buf, j, true); // the first maxMethodBytes, for the message
            return this.#fail('method-too-long');
          }
          return this.#fail(c === HTAB ? 'request-line-whitespace' : 'method-invalid');
        }
        case TARGET_START:
          if (this.#left === 0) return this.#fail('target-too-long');
          if (b === SP || b === HTAB) return this.#fail('request-line-whitespace');
          if (b === CR || b === LF) return this.#fail('request-line-invalid');
          this.#state = IN_TARGET;
          this.#tok = i;
          this.#isSplit = false;
          this.#isInQuery = false;
          break;
        case IN_TARGET: {
          const j = this.#scanTarget(buf, i, end);
          if (j < 0) return -1;
          if (j === end) return end;
          const c = buf[j] as number;
          if (c === SP && this.#left > 0) {
            this.target = this.#token(buf, j, false);
            this.#left--;
            this.#state = VERSION;
            this.#versionPos = 0;
            i = j + 1;
            break;
          }
          if (c === CR) return this.#fail('http09');
          if (this.#left === 0) return this.#fail('target-too-long');
          return this.#fail(
            c === HTAB || c === SP ? 'request-line-whitespace' : c === LF ? 'bare-lf' : 'target-invalid',
          );
        }
        case VERSION: {
          if (this.#left === 0) return this.#fail('target-too-long');
          const want = VERSION_BYTES[this.#versionPos] as number;
          if (want < 0 ? b < 0x30 || b > 0x39 : b !== want) {
            return this.#fail(
              this.#versionPos === 0 && (b === SP || b === HTAB)
                ? 'request-line-whitespace'
                : 'version-invalid',
            );
          }
          if (this.#versionPos === 5) this.versionMajor = b - 0x30;
          if (this.#versionPos === 7) {
            this.versionMinor = b - 0x30;
            this.#state = LINE_END;
          }
          this.#versionPos++;
          this.#left--;
          i++;
          break;
        }
        case LINE_END:
          if (b === CR) {
            this.#state = LINE_LF;
            i++;
            break;
          }
          return this.#fail(
            b === SP || b === HTAB ? 'request-line-whitespace' : b === LF ? 'bare-lf' : 'version-invalid',
          );
        default:
          // LINE_LF
          if (b !== LF) return this.#fail('bare-cr');
          this.bytes = this.#maxBytes - this.#left + 2;
          this.isDone = true;
          if (this.versionMajor !== 1 || this.versionMinor > 1) return this.#fail('version-unsupported');
          return i + 1;
      }
    }
    return end;
  }

  /**
   * Happy path, for speed: a whole, valid line of HTTP/1.0 or 1.1 lying in `buf`, read with locals only.
   * Returns the index after its CRLF, or -1 to let the state machine read (and refuse) it from the start.
   */
  #fastLine(buf: Buffer, start: number, end: number): number {
    const lineEnd = Math.min(end, start + this.#maxBytes);
    const methodStop = Math.min(lineEnd, start + this.#maxMethodBytes + 1);
    let j = start;
    while (j < methodStop && TOKEN[buf[j] as number] === 1) j++;
    if (j === start || j >= lineEnd || buf[j] !== SP || j - start > this.#maxMethodBytes) return -1;
    const methodEnd = j++;
    const targetStart = j;
    let isInQuery = false;
    let needsPathCheck = false;
    for (; j < lineEnd; j++) {
      const c = TARGET[buf[j] as number] as number;
      if (c === TARGET_OK) continue;
      if (c === 0) break;
      if (c === TARGET_QUERY) isInQuery = true;
      else if (c === TARGET_CHECK) needsPathCheck = true;
      else if (!isInQuery) return -1;
    }
    if (j === targetStart || j >= lineEnd || buf[j] !== SP) return -1;
    const targetEnd = j++;
    if (j + 10 > end || j + 8 > start + this.#maxBytes) return -1;
    for (let k = 0; k < 5; k++) if (buf[j + k] !== VERSION_BYTES[k]) return -1;
    const major = (buf[j + 5] as number) - 0x30;
    const minor = (buf[j + 7] as number) - 0x30;
    if (major !== 1 || (minor !== 0 && minor !== 1) || buf[j + 6] !== 0x2e) return -1;
    if (buf[j + 8] !== CR || buf[j + 9] !== LF) return -1;
    this.#tok = start;
    this.#isSplit = false;
    const method = this.#token(buf, methodEnd, true);
    if (!this.#methods.has(method)) return -1; // the state machine refuses it
    this.method = method;
    this.#tok = targetStart;
    this.target = this.#token(buf, targetEnd, false);
    this.versionMajor = 1;
    this.versionMinor = minor;
    this.needsPathCheck = needsPathCheck;
    this.bytes = j + 10 - start;
    this.isDone = true;
    return j + 10;
  }

  #fail(reason: RejectReason): number {
    this.reason = reason;
    return -1;
  }

  /**
   * Scans a run of `table` bytes within the line budget and at most `max` bytes; keeps a partial
   * string at the end of data.
   */
  #scan(buf: Buffer, i: number, end: number, table: Uint8Array, max: number): number {
    const stop = Math.min(end, i + this.#left, i + max);
    let j = i;
    while (j < stop && table[buf[j] as number] === 1) j++;
    this.#left -= j - i;
    if (j === end) this.#keepPartial(buf, end);
    return j;
  }

  #scanTarget(buf: Buffer, i: number, end: number): number {
    const stop = Math.min(end, i + this.#left);
    let j = i;
    for (; j < stop; j++) {
      const c = TARGET[buf[j] as number] as number;
      if (c === TARGET_OK) continue;
      if (c === 0) break;
      if (c === TARGET_QUERY) this.#isInQuery = true;
      else if (c === TARGET_CHECK) this.needsPathCheck = true;
      else if (!this.#isInQuery) {
        this.#left -= j - i;
        return this.#fail(this.#left === 0 ? 'target-too-long' : 'target-invalid');
      }
    }
    this.#left -= j - i;
    if (j === end) this.#keepPartial(buf, end);
    return j;
  }

  #keepPartial(buf: Buffer, end: number): void {
    const s = latin1(buf, this.#tok, end);
    this.#partial = this.#isSplit ? this.#partial + s : s;
    this.#isSplit = true;
  }

  #token(buf: Buffer, j: number, isMethod: boolean): string {
    if (this.#isSplit) return this.#partial + latin1(buf, this.#tok, j);
    return (isMethod && knownMethod(buf, this.#tok, j)) || latin1(buf, this.#tok, j);
  }
}

/** The interned name of a common method in `buf[start, end)`, or '' (compared in JS: no C++ call). */
function knownMethod(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  for (const [name, bytes] of METHODS) {
    if (bytes.length !== len) continue;
    let k = 0;
    while (k < len && buf[start + k] === bytes[k]) k++;
    if (k === len) return name;
  }
  return '';
}
