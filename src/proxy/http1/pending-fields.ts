// Field offsets the field reader collected within one input buffer, turned into strings in one go: a
// single latin1 slice over their span, then substrings (one C++ call per read instead of two per field).

import { latin1 } from './char-tables.ts';
import { HEADER_NAMES } from './header-names.ts';

/** Name id for an unknown name that holds capitals (lower-cased at flush); -1 is unknown, lower-case. */
export const UNKNOWN_UPPER = -2;

export class PendingFields {
  #offsets = new Int32Array(64);
  #ids = new Int32Array(16);
  #count = 0;

  clear(): void {
    this.#count = 0;
  }

  /** A field at name `[ns, ne)`, value `[vs, ve)` of the current buffer; `id` from lookupHeaderName. */
  record(ns: number, ne: number, vs: number, ve: number, id: number): void {
    const n = this.#count;
    if (n === this.#ids.length) {
      const offsets = new Int32Array(n * 8);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
      const ids = new Int32Array(n * 2);
      ids.set(this.#ids);
      this.#ids = ids;
    }
    const p = this.#offsets;
    p[n * 4] = ns;
    p[n * 4 + 1] = ne;
    p[n * 4 + 2] = vs;
    p[n * 4 + 3] = ve;
    this.#ids[n] = id;
    this.#count = n + 1;
  }

  /** Appends the recorded fields to `fields` as `[name, value, ...]` strings, then forgets them. */
  flushInto(buf: Buffer, fields: string[]): void {
    const n = this.#count;
    if (n === 0) return;
    const p = this.#offsets;
    const base = p[0] as number;
    const s = latin1(buf, base, p[n * 4 - 1] as number);
    for (let k = 0; k < n; k++) {
      const id = this.#ids[k] as number;
      const o = k * 4;
      let name: string;
      if (id >= 0) name = HEADER_NAMES[id] as string;
      else {
        name = s.slice((p[o] as number) - base, (p[o + 1] as number) - base);
        if (id === UNKNOWN_UPPER) name = name.toLowerCase();
      }
      fields.push(name, s.slice((p[o + 2] as number) - base, (p[o + 3] as number) - base));
    }
    this.#count = 0;
  }
}
