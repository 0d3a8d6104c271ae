// Decodes the chunked transfer coding (RFC 9112 §7.1) for the request and response parsers: chunk-size
// lines, extensions, the CRLF after data, and the trailer section. The owning parser emits data bytes
// itself while `dataLeft > 0`, so body delivery is one code path for chunked and Content-Length.
// Extensions are validated to RFC grammar (BWS allowed around ';' and '=') and dropped: forwarders
// re-frame with chunked-writer.ts and never pass them on.

import { CR, HEX, HTAB, LF, SP, TOKEN } from './char-tables.ts';
import type { RejectReason } from './errors.ts';
import type { FieldReader } from './field-reader.ts';
import type { Http1Limits } from './limits.ts';

const SIZE_START = 0;
const SIZE = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILERS = 6;
const BWS_SEMI = 7; // whitespace that must be followed by ';'
const NAME_BWS = 8;
const NAME = 9;
const NAME_AFTER = 10; // whitespace after a name: '=' or ';' must follow
const VALUE_BWS = 11;
const VALUE_TOKEN = 12;
const QUOTED = 13;
const QUOTED_PAIR = 14;
const VALUE_END = 15; // right after a value: ';', CR or whitespace

const MAX_SIZE_DIGITS = 16;

export class ChunkedDecoder {
  /** Data bytes of the current chunk the owner still has to emit (then it calls `dataDone`). */
  dataLeft = 0;
  reason: RejectReason = 'chunk-size-invalid';
  isDone = false;
  /** Trailer fields once done, or null when the trailer section was empty. */
  trailers: string[] | null = null;

  readonly #limits: Http1Limits;
  readonly #fields: FieldReader;
  #state = SIZE_START;
  #size = 0;
  #digits = 0;
  #total = 0;
  #extLeft = 0;
  #hasExt = false;

  constructor(limits: Http1Limits, fields: FieldReader) {
    this.#limits = limits;
    this.#fields = fields;
  }

  begin(): void {
    this.#state = SIZE_START;
    this.#total = 0;
    this.dataLeft = 0;
    this.isDone = false;
    this.trailers = null;
  }

  /** The owner emitted `n` data bytes. */
  dataDone(n: number): void {
    this.dataLeft -= n;
    if (this.dataLeft === 0) this.#state = DATA_CR;
  }

  /**
   * Consumes framing bytes from `buf[start, end)`; returns the next index, or -1 on error. Returns early
   * when chunk data starts (`dataLeft > 0`) or the trailer section ends (`isDone`).
   */
  read(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === TRAILERS) {
        const j = this.#fields.read(buf, i, end);
        if (j < 0) return this.#fail(this.#fields.reason);
        if (this.#fields.isDone) {
          const fields = this.#fields.fields;
          this.trailers = fields.length === 0 ? null : fields;
          this.isDone = true;
        }
        return j;
      }
      if (state === DATA) return i;
      const b = buf[i] as number;
      // Extension bytes: everything after the size digits up to CR.
      if (b !== CR && (state >= BWS_SEMI || (state === SIZE && HEX[b] === 255))) {
        if (this.#extLeft === 0) return this.#fail('chunk-ext-too-long');
        this.#extLeft--;
      }
      const bad = this.#step(b, state);
      if (bad !== null) return this.#fail(bad);
      i++;
      if (this.#state === DATA || this.#state === TRAILERS) {
        if (this.#state === TRAILERS) this.#fields.begin(true, 0);
        return i;
      }
    }
    return end;
  }

  #fail(reason: RejectReason): number {
    this.reason = reason;
    return -1;
  }

  /** One framing byte (size lines are short, so a call per byte is fine here, unlike in data). */
  #step(b: number, state: number): RejectReason | null {
    switch (state) {
      case SIZE_START:
        if (HEX[b] === 255) return b === LF ? 'bare-lf' : 'chunk-size-invalid';
        this.#size = HEX[b] as number;
        this.#digits = 1;
        this.#hasExt = false;
        this.#extLeft = this.#limits.maxChunkExtBytes;
        this.#state = SIZE;
        return null;
      case SIZE: {
        const v = HEX[b] as number;
        if (v !== 255) {
          if (++this.#digits > MAX_SIZE_DIGITS || this.#size > (Number.MAX_SAFE_INTEGER - v) / 16) {
            return 'chunk-size-overflow';
          }
          this.#size = this.#size * 16 + v;
          return null;
        }
        this.#total += this.#size;
        if (this.#total > this.#limits.maxBodyBytes) return 'body-too-large';
        return this.#afterValue(b, 'chunk-size-invalid');
      }
      case SIZE_LF:
        if (b !== LF) return 'bare-cr';
        if (this.#size === 0) this.#state = TRAILERS;
        else {
          this.#state = DATA;
          this.dataLeft = this.#size;
        }
        return null;
      case DATA_CR:
        if (b === CR) this.#state = DATA_LF;
        return b === CR ? null : b === LF ? 'bare-lf' : 'chunk-data-crlf';
      case DATA_LF:
        if (b === LF) this.#state = SIZE_START;
        return b === LF ? null : 'bare-cr';
      case BWS_SEMI:
        if (b === SP || b === HTAB) return null;
        if (b === 0x3b) return this.#toName();
        return this.#hasExt ? 'chunk-ext-invalid' : 'chunk-size-invalid';
      case NAME_BWS:
        if (b === SP || b === HTAB) return null;
        if (TOKEN[b] !== 1) return 'chunk-ext-invalid';
        this.#state = NAME;
        return null;
      case NAME:
        if (TOKEN[b] === 1) return null;
        if (b === 0x3d) return this.#to(VALUE_BWS);
        if (b === SP || b === HTAB) return this.#to(NAME_AFTER);
        return this.#afterValue(b, 'chunk-ext-invalid');
      case NAME_AFTER:
        if (b === SP || b === HTAB) return null;
        if (b === 0x3d) return this.#to(VALUE_BWS);
        return b === 0x3b ? this.#toName() : 'chunk-ext-invalid';
      case VALUE_BWS:
        if (b === SP || b === HTAB) return null;
        if (b === 0x22) return this.#to(QUOTED);
        return TOKEN[b] === 1 ? this.#to(VALUE_TOKEN) : 'chunk-ext-invalid';
      case VALUE_TOKEN:
        return TOKEN[b] === 1 ? null : this.#afterValue(b, 'chunk-ext-invalid');
      case QUOTED:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        if (b === 0x22) return this.#to(VALUE_END);
        if (b === 0x5c) return this.#to(QUOTED_PAIR);
        return b === HTAB || (b >= 0x20 && b !== 0x7f) ? null : b === LF ? 'bare-lf' : 'chunk-ext-invalid';
      case QUOTED_PAIR:
        return b === HTAB || (b >= 0x20 && b !== 0x7f) ? this.#to(QUOTED) : 'chunk-ext-invalid';
      default:
        // VALUE_END
        return this.#afterValue(b, 'chunk-ext-invalid');
    }
  }

  /** After a size, name or value: CR ends the line, ';' starts an extension, whitespace must lead to ';'. */
  #afterValue(b: number, invalid: RejectReason): RejectReason | null {
    if (b === CR) return this.#to(SIZE_LF);
    if (b === 0x3b) return this.#toName();
    if (b === SP || b === HTAB) return this.#to(BWS_SEMI);
    return b === LF ? 'bare-lf' : invalid;
  }

  #toName(): null {
    this.#hasExt = true;
    this.#state = NAME_BWS;
    return null;
  }

  #to(state: number): null {
    this.#state = state;
    return null;
  }
}
