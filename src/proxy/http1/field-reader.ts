// Reads one header or trailer section (RFC 9112 §5) incrementally and strictly, for the request and
// response parsers and the chunked decoder. It validates bytes with tables and records offsets that
// PendingFields turns into strings once per read (leaving out names with `_` under DROP_HEADER);
// framing meaning is left to the callers.

import { COLON, CR, FIELD_VALUE, HTAB, LF, latin1, SP, TOKEN } from './char-tables.ts';
import type { RejectReason } from './errors.ts';
import {
  FORBIDDEN_IN_TRAILER,
  HEADER_FLAGS,
  HEADER_NAMES,
  headerNameId,
  isFramingLookalike,
  lookupHeaderName,
  SPECIAL_COUNT,
} from './header-names.ts';
import type { Http1Limits } from './limits.ts';
import { PendingFields, UNKNOWN_UPPER } from './pending-fields.ts';

const LINE_START = 0;
const LINE_START_LF = 1;
const NAME = 2;
const NAME_WS = 3;
const VALUE_OWS = 4;
const VALUE = 5;
const VALUE_LF = 6;

const UNKNOWN_LOWER = -1;

export class FieldReader {
  /** Flat `[name, value, ...]` of the current section, names lower-cased, wire order. */
  fields: string[] = [];
  /** Field lines seen per special id (H_CONTENT_LENGTH...), and the `fields` index of the first value. */
  readonly counts = new Int32Array(SPECIAL_COUNT);
  readonly firstValue = new Int32Array(SPECIAL_COUNT);
  /** Set when read() returns -1. */
  reason: RejectReason = 'header-name-invalid';
  isDone = false;

  readonly #limits: Http1Limits;
  #isTrailer = false;
  #state = LINE_START;
  #used = 0;
  #lineLeft = 0;
  /** Field lines read (the maxHeaders count); `#fieldCount - #dropped` of them are in `fields`. */
  #fieldCount = 0;
  #dropped = 0;
  #isDropping = false;
  #tok = 0;
  #isSplit = false;
  #partial = '';
  #nameStart = 0;
  #nameEnd = 0;
  #nameId = UNKNOWN_LOWER;
  #nameStr: string | null = null;
  readonly #pending = new PendingFields();

  constructor(limits: Http1Limits) {
    this.#limits = limits;
  }

  /** Starts a section; `usedBytes` already count against maxHeaderSectionBytes (the start line). */
  begin(isTrailer: boolean, usedBytes: number): void {
    this.fields = [];
    for (let k = 0; k < SPECIAL_COUNT; k++) this.counts[k] = 0;
    this.isDone = false;
    this.#isTrailer = isTrailer;
    this.#state = LINE_START;
    this.#used = usedBytes;
    this.#fieldCount = 0;
    this.#dropped = 0;
    this.#pending.clear();
    this.#nameStr = null;
  }

  /** Consumes `buf[start, end)` up to the end of the section; returns the next index, or -1 on error. */
  read(buf: Buffer, start: number, end: number): number {
    let i = start;
    if (this.#state === NAME || this.#state === VALUE) this.#tok = start;
    // One loop over states; each state scans its run of bytes in an inner loop (no call per byte).
    while (i < end) {
      switch (this.#state) {
        case LINE_START: {
          const b = buf[i] as number;
          if (b === CR) {
            this.#state = LINE_START_LF;
            i++;
            break;
          }
          if (TOKEN[b] === 1) {
            const j = this.#fastLines(buf, i, end);
            if (j > i) {
              i = j;
              break;
            }
            this.#state = NAME;
            this.#lineLeft = this.#limits.maxHeaderLineBytes;
            this.#tok = i;
            this.#isSplit = false;
            this.#nameStr = null;
            break;
          }
          if (b === SP || b === HTAB) {
            return this.#fail(this.#fieldCount === 0 && !this.#isTrailer ? 'leading-whitespace' : 'obs-fold');
          }
          return this.#fail(b === LF ? 'bare-lf' : b === COLON ? 'header-name-empty' : 'header-name-invalid');
        }
        case LINE_START_LF: {
          if (buf[i] !== LF) return this.#fail('bare-cr');
          i++;
          this.#used += 2;
          if (this.#used > this.#limits.maxHeaderSectionBytes) return this.#fail('header-section-too-large');
          this.#pending.flushInto(buf, this.fields);
          this.isDone = true;
          return i;
        }
        case NAME: {
          const stop = Math.min(end, i + this.#lineLeft);
          let j = i;
          while (j < stop && TOKEN[buf[j] as number] === 1) j++;
          this.#lineLeft -= j - i;
          i = j;
          if (j === end) break;
          const b = buf[j] as number;
          if (b === CR) return this.#fail('header-colon-missing');
          if (b === LF) return this.#fail('bare-lf');
          if (this.#lineLeft === 0) return this.#fail('header-line-too-long');
          if (b === SP || b === HTAB) {
            this.#state = NAME_WS;
            break;
          }
          if (b !== COLON) return this.#fail('header-name-invalid');
          const bad = this.#endName(buf, j);
          if (bad !== null) return this.#fail(bad);
          this.#lineLeft--;
          i = j + 1;
          this.#state = VALUE_OWS;
          break;
        }
        case NAME_WS: {
          // Whatever follows, the line is invalid; only the reason depends on it.
          const stop = Math.min(end, i + this.#lineLeft);
          let j = i;
          while (j < stop && (buf[j] === SP || buf[j] === HTAB)) j++;
          this.#lineLeft -= j - i;
          i = j;
          if (j === end) break;
          const b = buf[j] as number;
          if (b === CR) return this.#fail('header-colon-missing');
          if (b === LF) return this.#fail('bare-lf');
          if (this.#lineLeft === 0) return this.#fail('header-line-too-long');
          return this.#fail(b === COLON ? 'space-before-colon' : 'header-name-invalid');
        }
        case VALUE_OWS: {
          const stop = Math.min(end, i + this.#lineLeft);
          let j = i;
          while (j < stop && (buf[j] === SP || buf[j] === HTAB)) j++;
          this.#lineLeft -= j - i;
          i = j;
          if (j === end) break;
          const b = buf[j] as number;
          if (b === CR || FIELD_VALUE[b] === 1) {
            this.#state = VALUE;
            this.#tok = j;
            this.#isSplit = false;
            break;
          }
          if (b === LF) return this.#fail('bare-lf');
          return this.#fail(this.#lineLeft === 0 ? 'header-line-too-long' : 'header-value-invalid');
        }
        case VALUE: {
          const stop = Math.min(end, i + this.#lineLeft);
          let j = i;
          while (j < stop && FIELD_VALUE[buf[j] as number] === 1) j++;
          this.#lineLeft -= j - i;
          i = j;
          if (j === end) break;
          const b = buf[j] as number;
          if (b === LF) return this.#fail('bare-lf');
          if (b !== CR)
            return this.#fail(this.#lineLeft === 0 ? 'header-line-too-long' : 'header-value-invalid');
          const bad = this.#endValue(buf, j);
          if (bad !== null) return this.#fail(bad);
          i = j + 1;
          this.#state = VALUE_LF;
          break;
        }
        default: {
          // VALUE_LF
          if (buf[i] !== LF) return this.#fail('bare-cr');
          i++;
          this.#used += this.#limits.maxHeaderLineBytes - this.#lineLeft + 2;
          if (this.#used > this.#limits.maxHeaderSectionBytes) return this.#fail('header-section-too-large');
          this.#state = LINE_START;
        }
      }
    }
    this.#suspend(buf, end);
    return end;
  }

  /**
   * Happy path, for speed: takes whole field lines lying in `buf` with local variables only, and returns
   * the index after the last one taken. At anything unusual (end of data, a byte off the happy path, a
   * limit, a name rule) it stops at that line's start, and the state machine re-reads the line: every
   * refusal comes from the state machine, so both paths agree.
   */
  #fastLines(buf: Buffer, i: number, end: number): number {
    const limits = this.#limits;
    for (;;) {
      const lineStart = i;
      const lineEnd = Math.min(end, i + limits.maxHeaderLineBytes);
      let j = i;
      while (j < lineEnd && TOKEN[buf[j] as number] === 1) j++;
      if (j === i || j >= lineEnd || buf[j] !== COLON) return lineStart;
      const nameEnd = j++;
      while (j < lineEnd && (buf[j] === SP || buf[j] === HTAB)) j++;
      const valueStart = j;
      while (j < lineEnd && FIELD_VALUE[buf[j] as number] === 1) j++;
      if (j + 1 >= end || buf[j] !== CR || buf[j + 1] !== LF) return lineStart;
      const used = this.#used + (j - lineStart) + 2;
      if (used > limits.maxHeaderSectionBytes || this.#fieldCount >= limits.maxHeaders) return lineStart;
      this.#tok = lineStart;
      this.#isSplit = false;
      this.#nameStr = null;
      if (this.#endName(buf, nameEnd) !== null) return lineStart;
      this.#tok = valueStart;
      this.#endValue(buf, j);
      this.#used = used;
      i = j + 2;
      if (i >= end || TOKEN[buf[i] as number] !== 1) return i;
    }
  }

  #fail(reason: RejectReason): number {
    this.reason = reason;
    return -1;
  }

  /** Name ends at `j` (the colon): resolve its id, apply the underscore and trailer rules. */
  #endName(buf: Buffer, j: number): RejectReason | null {
    const start = this.#tok;
    let id: number;
    let lower: string | null = null;
    if (this.#isSplit) {
      lower = (this.#partial + latin1(buf, start, j)).toLowerCase();
      id = headerNameId(lower);
      this.#nameStr = id >= 0 ? (HEADER_NAMES[id] as string) : lower;
      this.#nameEnd = -1;
    } else {
      id = lookupHeaderName(buf, start, j);
      this.#nameStart = start;
      this.#nameEnd = j;
      if (id >= 0) this.#nameStr = HEADER_NAMES[id] as string;
    }
    this.#nameId = id;
    if (id < 0) {
      // Unknown name (known ones hold no '_' or capitals once folded): look for both in one pass.
      let hasUnderscore = lower?.includes('_') === true;
      if (lower === null) {
        for (let k = start; k < j; k++) {
          const b = buf[k] as number;
          if (b === 0x5f) hasUnderscore = true;
          else if (b >= 0x41 && b <= 0x5a) this.#nameId = UNKNOWN_UPPER;
        }
      }
      this.#isDropping = false;
      if (hasUnderscore) {
        lower ??= latin1(buf, start, j).toLowerCase();
        if (isFramingLookalike(lower)) return 'header-name-lookalike';
        const action = this.#limits.headersWithUnderscoresAction;
        if (action === 'REJECT_REQUEST') return 'header-name-underscore';
        this.#isDropping = action === 'DROP_HEADER';
      }
    } else if (this.#isTrailer && ((HEADER_FLAGS[id] as number) & FORBIDDEN_IN_TRAILER) !== 0) {
      return 'trailer-forbidden';
    }
    return null;
  }

  /** Value ends at `j` (the CR): record the field (as offsets when it lies wholly in `buf`). */
  #endValue(buf: Buffer, j: number): RejectReason | null {
    if (this.#fieldCount >= this.#limits.maxHeaders) return 'too-many-headers';
    const id = this.#nameId;
    this.#fieldCount++;
    if (id < 0 && this.#isDropping) {
      // DROP_HEADER: read and counted against the limits, never recorded.
      this.#isDropping = false;
      this.#dropped++;
      return null;
    }
    if (id >= 0 && id < SPECIAL_COUNT) {
      const at = (this.#fieldCount - 1 - this.#dropped) * 2 + 1;
      if ((this.counts[id] as number) === 0) this.firstValue[id] = at;
      this.counts[id] = (this.counts[id] as number) + 1;
    }
    if (!this.#isSplit && this.#nameEnd >= 0) {
      let ve = j;
      while (ve > this.#tok && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
      this.#pending.record(this.#nameStart, this.#nameEnd, this.#tok, ve, id);
      return null;
    }
    const value = trimEnd(
      this.#isSplit ? this.#partial + latin1(buf, this.#tok, j) : latin1(buf, this.#tok, j),
    );
    this.fields.push(this.#nameStr ?? this.#nameOf(buf), value);
    return null;
  }

  #nameOf(buf: Buffer): string {
    const s = latin1(buf, this.#nameStart, this.#nameEnd);
    return this.#nameId === UNKNOWN_UPPER ? s.toLowerCase() : s;
  }

  /** The read ended inside the section: keep what later reads need as strings. */
  #suspend(buf: Buffer, end: number): void {
    this.#pending.flushInto(buf, this.fields);
    const state = this.#state;
    if (state === NAME || state === VALUE) {
      this.#partial = this.#isSplit
        ? this.#partial + latin1(buf, this.#tok, end)
        : latin1(buf, this.#tok, end);
      this.#isSplit = true;
    }
    if ((state === VALUE_OWS || state === VALUE) && this.#nameEnd >= 0) {
      this.#nameStr ??= this.#nameOf(buf);
      this.#nameEnd = -1;
    }
  }
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && (s.charCodeAt(e - 1) === SP || s.charCodeAt(e - 1) === HTAB)) e--;
  return e === s.length ? s : s.slice(0, e);
}
