// Field-value checks that decide framing and connection handling (RFC 9112 §6, §9.6; RFC 9110 §7.6.1,
// §7.8, §10.1.1): Content-Length, Transfer-Encoding, Connection, Upgrade, Expect. Pure functions over
// the trimmed values the field reader produced; they allocate nothing on the common values.

import { HTAB, SP, TOKEN } from './char-tables.ts';
import type { RejectReason } from './errors.ts';

/** Content-Length as a number; -1 when not 1*DIGIT, -2 when beyond Number.MAX_SAFE_INTEGER. */
export function parseContentLength(value: string): number {
  const len = value.length;
  if (len === 0) return -1;
  let n = 0;
  for (let k = 0; k < len; k++) {
    const d = value.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  // Above 2^53 the sum above loses precision, but it stays above the limit, so the check holds.
  return n > Number.MAX_SAFE_INTEGER ? -2 : n;
}

/** Case-insensitive equality of a field value with a lower-case token literal, without allocating. */
export function equalsToken(value: string, lowerToken: string): boolean {
  const len = lowerToken.length;
  if (value.length !== len) return false;
  for (let k = 0; k < len; k++) {
    if ((value.charCodeAt(k) | 0x20) !== lowerToken.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Splits a list value (RFC 9110 §5.6.1) into lower-cased elements; null when an element is not a token.
 * Empty elements are dropped when `isEmptyAllowed`, otherwise they make the list invalid (null).
 */
export function tokenList(value: string, isEmptyAllowed: boolean): string[] | null {
  const out: string[] = [];
  const len = value.length;
  let k = 0;
  while (k <= len) {
    while (k < len && isOws(value.charCodeAt(k))) k++;
    const start = k;
    while (k < len && TOKEN[value.charCodeAt(k)] === 1) k++;
    const stop = k;
    while (k < len && isOws(value.charCodeAt(k))) k++;
    if (k < len && value.charCodeAt(k) !== 0x2c) return null; // not a token, not a comma
    if (stop > start) out.push(value.slice(start, stop).toLowerCase());
    else if (!isEmptyAllowed) return null;
    k++;
  }
  return out;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * Why a request's Transfer-Encoding is refused, or null when it is exactly `chunked`. Only a single
 * final `chunked` is accepted: RFC 9112 §6.3 makes a non-final chunked a 400; other codings are 501.
 */
export function transferEncodingReason(value: string): RejectReason | null {
  if (equalsToken(value, 'chunked')) return null;
  const codings = tokenList(value, false);
  if (codings === null || codings.length === 0) return 'te-invalid';
  if (codings[codings.length - 1] !== 'chunked') return 'te-not-chunked';
  if (codings.indexOf('chunked') !== codings.length - 1) return 'te-chunked-repeated';
  return 'te-unsupported';
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;
/** Connection names content-length, transfer-encoding or host: stripping them would change framing. */
export const CONN_FRAMING = 8;
export const CONN_INVALID = 16;

/** Connection options of one field value as CONN_* bits. */
export function connectionOptions(value: string): number {
  if (equalsToken(value, 'keep-alive')) return CONN_KEEP_ALIVE;
  if (equalsToken(value, 'close')) return CONN_CLOSE;
  if (equalsToken(value, 'upgrade')) return CONN_UPGRADE;
  const options = tokenList(value, true);
  if (options === null) return CONN_INVALID;
  let bits = 0;
  for (const option of options) {
    if (option === 'close') bits |= CONN_CLOSE;
    else if (option === 'keep-alive') bits |= CONN_KEEP_ALIVE;
    else if (option === 'upgrade') bits |= CONN_UPGRADE;
    else if (option === 'content-length' || option === 'transfer-encoding' || option === 'host') {
      bits |= CONN_FRAMING;
    }
  }
  return bits;
}

/** True when an Upgrade value is a non-empty list of `protocol-name["/"protocol-version]`. */
export function isValidUpgrade(value: string): boolean {
  let count = 0;
  for (const part of value.split(',')) {
    const p = part.replace(/^[ \t]+|[ \t]+$/g, ''); // only on Upgrade requests, which are rare
    if (p === '') continue;
    const slash = p.indexOf('/');
    if (!isToken(slash < 0 ? p : p.slice(0, slash))) return false;
    if (slash >= 0 && !isToken(p.slice(slash + 1))) return false;
    count++;
  }
  return count > 0;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) if (TOKEN[s.charCodeAt(k)] !== 1) return false;
  return true;
}
