// Request-target forms (RFC 9112 §3.2) and Host values (RFC 9110 §7.2): which form a target takes for
// its method, whether its path is well percent-encoded, and whether Host agrees with it. Called once
// per request by the request parser; the byte-level scan of the target happened before.

import { HEX, HOST_NAME } from './char-tables.ts';
import type { RejectReason } from './errors.ts';

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/** The form a target takes, or a reason when the form does not suit the method. */
export function targetForm(method: string, target: string): TargetForm | RejectReason {
  const c = target.charCodeAt(0);
  if (method === 'CONNECT') return c === 0x2f || target.includes('/') ? 'target-form' : 'authority';
  if (c === 0x2f) return 'origin';
  if (target === '*') return method === 'OPTIONS' ? 'asterisk' : 'target-form';
  const scheme = schemeLength(target);
  return scheme > 0 ? 'absolute' : 'target-form';
}

/** Length of an `http://` or `https://` prefix (any case), else 0. */
function schemeLength(target: string): number {
  const colon = target.indexOf('://');
  if (colon !== 4 && colon !== 5) return 0;
  const scheme = target.slice(0, colon).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? colon + 3 : 0;
}

/** Authority of an absolute-form target (`http://a:1/x` → `a:1`). */
export function absoluteAuthority(target: string): string {
  const start = schemeLength(target);
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break; // '/' or '?'
    end++;
  }
  return target.slice(start, end);
}

/**
 * Checks what the byte scan left for later: `%` escapes and brackets in the path, the authority of
 * absolute and authority forms. `needsPathCheck` is false when the scan saw no '%', '[' or ']'.
 */
export function targetReason(target: string, form: TargetForm, needsPathCheck: boolean): RejectReason | null {
  let pathStart = 0;
  if (form === 'authority') return authorityReason(target, true);
  if (form === 'asterisk') return null;
  if (form === 'absolute') {
    const authority = absoluteAuthority(target);
    const bad = authorityReason(authority, false);
    if (bad !== null) return bad;
    pathStart = schemeLength(target) + authority.length;
  }
  if (!needsPathCheck) return null;
  for (let k = pathStart; k < target.length; k++) {
    const c = target.charCodeAt(k);
    if (c === 0x3f) return null; // the query is opaque: apps parse it their own way
    if (c === 0x5b || c === 0x5d) return 'target-invalid'; // brackets only in IP-literal hosts
    if (c === 0x25) {
      if (HEX[target.charCodeAt(k + 1) & 0xff] === 255 || HEX[target.charCodeAt(k + 2) & 0xff] === 255) {
        return 'target-pct';
      }
      k += 2;
    }
  }
  return null;
}

function authorityReason(authority: string, isPortRequired: boolean): RejectReason | null {
  if (authority.includes('@')) return 'target-userinfo';
  if (isValidHost(authority, isPortRequired)) return null;
  return authority === '' || isValidHost(authority, false) ? 'target-form' : 'target-invalid';
}

/**
 * True for `host[:port]`: a reg-name of ALPHA DIGIT - . _ ~ (no sub-delims, no %-escapes), or a
 * bracketed IPv6 literal; port 1..65535 without sign. Stricter than RFC 3986's reg-name on purpose.
 */
export function isValidHost(value: string, isPortRequired: boolean): boolean {
  const len = value.length;
  let k = 0;
  if (value.charCodeAt(0) === 0x5b) {
    const close = value.indexOf(']');
    const colon = value.indexOf(':');
    if (close < 3 || colon < 0 || colon > close) return false;
    for (k = 1; k < close; k++) {
      const c = value.charCodeAt(k);
      if (HEX[c & 0xff] === 255 && c !== 0x3a && c !== 0x2e) return false;
    }
    k = close + 1;
  } else {
    while (k < len && HOST_NAME[value.charCodeAt(k) & 0xff] === 1) k++;
    if (k === 0) return false;
  }
  if (k === len) return !isPortRequired;
  if (value.charCodeAt(k) !== 0x3a || len - k - 1 < 1 || len - k - 1 > 5) return false;
  let port = 0;
  for (k++; k < len; k++) {
    const d = value.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return false;
    port = port * 10 + d;
  }
  return port >= 1 && port <= 65535;
}

/** Splits a valid `host[:port]` into lower-cased host and port string ('' when absent). */
function splitHost(value: string): [string, string] {
  const colon = value.lastIndexOf(':');
  const close = value.lastIndexOf(']');
  if (colon < 0 || colon < close) return [value.toLowerCase(), ''];
  return [value.slice(0, colon).toLowerCase(), value.slice(colon + 1)];
}

/**
 * True when Host names the same authority as the target: for absolute form, host equal ignoring case
 * and port equal once the scheme's default port is filled in; for CONNECT, Host may omit the port.
 */
export function isSameAuthority(host: string, target: string, form: TargetForm): boolean {
  const authority = form === 'absolute' ? absoluteAuthority(target) : target;
  const [hName, hPort] = splitHost(host);
  const [tName, tPort] = splitHost(authority);
  if (hName !== tName) return false;
  if (form === 'authority') return hPort === '' || Number(hPort) === Number(tPort);
  const defaultPort = target.charCodeAt(4) === 0x3a ? 80 : 443; // "http:" vs "https:"
  return (hPort === '' ? defaultPort : Number(hPort)) === (tPort === '' ? defaultPort : Number(tPort));
}
