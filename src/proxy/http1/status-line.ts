// Reads a status line (RFC 9112 §4) incrementally: `HTTP/d.d SP 3DIGIT SP [reason] CRLF`. Used by
// ResponseParser. One leniency that costs no safety: the SP after the code may be left out with the reason.

import { CR, FIELD_VALUE, LF, latin1, SP } from './char-tables.ts';
import type { RejectReason } from './errors.ts';

const VERSION = 0;
const CODE = 1;
const AFTER_CODE = 2;
const REASON = 3;
const LINE_LF = 4;

const VERSION_BYTES = [0x48, 0x54, 0x54, 0x50, 0x2f, -1, 0x2e, -1, SP]; // "HTTP/" DIGIT "." DIGIT SP

export class StatusLineReader {
  versionMinor = 1;
  status = 0;
  statusText = '';
  /** Bytes the line took, CRLF included. */
  bytes = 0;
  reason: RejectReason = 'status-line-invalid';
  isDone = false;

  readonly #maxBytes: number;
  #state = VERSION;
  #pos = 0;
  #left = 0;
  #tok = 0;
  #partial = '';

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.reset();
  }

  reset(): void {
    this.#state = VERSION;
    this.#pos = 0;
    this.#left = this.#maxBytes;
    this.isDone = false;
    this.status = 0;
    this.statusText = '';
    this.#partial = '';
  }

  get isIdle(): boolean {
    return this.#state === VERSION && this.#pos === 0;
  }

  /** Consumes `buf[start, end)` up to the end of the line; returns the next index, or -1 on error. */
  read(buf: Buffer, start: number, end: number): number {
    let i = start;
    this.#tok = start;
    while (i < end) {
      const b = buf[i] as number;
      if (b !== CR && this.#state !== LINE_LF) {
        if (this.#left === 0) return this.#fail('status-line-too-long');
        if (b === LF) return this.#fail('bare-lf');
      }
      switch (this.#state) {
        case VERSION: {
          const want = VERSION_BYTES[this.#pos] as number;
          if (want < 0 ? b < 0x30 || b > 0x39 : b !== want) return this.#fail('version-invalid');
          if (this.#pos === 5 && b !== 0x31) return this.#fail('version-unsupported');
          if (this.#pos === 7) {
            if (b > 0x31) return this.#fail('version-unsupported');
            this.versionMinor = b - 0x30;
          }
          if (++this.#pos === VERSION_BYTES.length) {
            this.#state = CODE;
            this.#pos = 0;
          }
          break;
        }
        case CODE:
          if (b < 0x30 || b > 0x39) return this.#fail('status-line-invalid');
          this.status = this.status * 10 + b - 0x30;
          if (++this.#pos === 3) {
            if (this.status < 100 || this.status > 599) return this.#fail('status-line-invalid');
            this.#state = AFTER_CODE;
          }
          break;
        case AFTER_CODE:
          if (b === CR) this.#state = LINE_LF;
          else if (b === SP) {
            this.#state = REASON;
            this.#tok = i + 1;
          } else return this.#fail('status-line-invalid');
          break;
        case REASON: {
          const stop = Math.min(end, i + this.#left);
          let j = i;
          while (j < stop && FIELD_VALUE[buf[j] as number] === 1) j++;
          this.#left -= j - i;
          if (j === end) {
            this.#partial += latin1(buf, this.#tok, end);
            return end;
          }
          const c = buf[j] as number;
          if (c !== CR)
            return this.#fail(
              c === LF ? 'bare-lf' : this.#left === 0 ? 'status-line-too-long' : 'status-line-invalid',
            );
          this.statusText = this.#partial + latin1(buf, this.#tok, j);
          this.#state = LINE_LF;
          i = j + 1;
          continue;
        }
        default:
          if (b !== LF) return this.#fail('bare-cr');
          this.bytes = this.#maxBytes - this.#left + 2;
          this.isDone = true;
          return i + 1;
      }
      if (b !== CR) this.#left--;
      i++;
    }
    return end;
  }

  #fail(reason: RejectReason): number {
    this.reason = reason;
    return -1;
  }
}
