// An index over a virtual host's candidates by the first path segment their uri condition requires
// (`/reviews/…` → `reviews`). select() then tests, in route order, only the candidates under the
// request's segment and those the index cannot key (no uri, ignoreUriCase, a short prefix).

import type { StringMatch } from '../../wire/index.ts';
import { re2LiteralPrefix } from './re2-literal-prefix.ts';

const NONE = new Int32Array(0);

export interface CandidateIndex {
  /** Candidate positions (ascending) by required first segment. */
  readonly bySegment: ReadonlyMap<string, Int32Array>;
  /** Positions of candidates every request must be tested against (ascending). */
  readonly always: Int32Array;
}

/** The segment a uri condition pins down, or undefined when requests outside one segment may match. */
export function segmentKey(uri: StringMatch | undefined, ignoreCase: boolean): string | undefined {
  if (uri === undefined || ignoreCase) return undefined;
  if ('exact' in uri) return uri.exact.startsWith('/') ? firstSegment(uri.exact, true) : undefined;
  const literal = 'prefix' in uri ? uri.prefix : re2LiteralPrefix(uri.regex);
  return literal.startsWith('/') ? firstSegment(literal, false) : undefined;
}

/** `/a/b` → `a`; `/a` → `a` when the text is the whole path, else undefined (`/a` is a prefix of `/ab`). */
function firstSegment(text: string, isWhole: boolean): string | undefined {
  const j = text.indexOf('/', 1);
  if (j !== -1) return text.slice(1, j);
  return isWhole ? text.slice(1) : undefined;
}

/** Builds the index from each candidate's key, in candidate order. */
export function buildCandidateIndex(keys: readonly (string | undefined)[]): CandidateIndex {
  const by = new Map<string, number[]>();
  const always: number[] = [];
  keys.forEach((key, k) => {
    if (key === undefined) {
      always.push(k);
      return;
    }
    const list = by.get(key);
    if (list === undefined) by.set(key, [k]);
    else list.push(k);
  });
  const bySegment = new Map<string, Int32Array>();
  for (const [key, list] of by) bySegment.set(key, Int32Array.from(list));
  return { bySegment, always: Int32Array.from(always) };
}

/** The candidate positions to test for a path (without query), as two ascending lists to merge. */
export function lookupSegment(index: CandidateIndex, pathOnly: string): Int32Array {
  const j = pathOnly.indexOf('/', 1);
  return index.bySegment.get(j === -1 ? pathOnly.slice(1) : pathOnly.slice(1, j)) ?? NONE;
}
