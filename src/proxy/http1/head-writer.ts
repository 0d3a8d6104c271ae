// Serializes request and response heads for the proxy's HTTP/1 connections: one latin1 string per head,
// to hand to a single `socket.write(head, 'latin1')`. Every byte is checked: a CR, LF or NUL that came
// from config or a rewrite must never split a head (request smuggling, response splitting).

import { FIELD_VALUE, TARGET, TOKEN } from './char-tables.ts';

/** `method target HTTP/1.1` + fields. Throws a TypeError naming the bad part; callers treat it as a bug. */
export function serializeRequestHead(method: string, target: string, headers: readonly string[]): string {
  if (!isAll(method, TOKEN))
    throw new TypeError(`http1 head: method ${JSON.stringify(method)} is not a token`);
  if (!isTarget(target))
    throw new TypeError(`http1 head: target ${JSON.stringify(target)} has a forbidden byte`);
  return fieldLines(`${method} ${target} HTTP/1.1\r\n`, headers);
}

/** `HTTP/1.1 status text` + fields. Same checks and throws as serializeRequestHead. */
export function serializeResponseHead(
  status: number,
  statusText: string,
  headers: readonly string[],
): string {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`http1 head: status ${status} is not within 100..599`);
  }
  if (statusText !== '' && !isAll(statusText, FIELD_VALUE)) {
    throw new TypeError(`http1 head: status text ${JSON.stringify(statusText)} has a control byte`);
  }
  return fieldLines(`HTTP/1.1 ${status} ${statusText}\r\n`, headers);
}

/** `headers` as field lines after `head`, then the empty line. */
export function fieldLines(head: string, headers: readonly string[]): string {
  let out = head;
  const n = headers.length;
  if ((n & 1) !== 0) throw new TypeError('http1 head: headers must be [name, value, ...] pairs');
  for (let k = 0; k < n; k += 2) {
    const name = headers[k] as string;
    const value = headers[k + 1] as string;
    if (!isAll(name, TOKEN))
      throw new TypeError(`http1 head: header name ${JSON.stringify(name)} is not a token`);
    if (!isAll(value, FIELD_VALUE) && value !== '') {
      throw new TypeError(`http1 head: header ${name}: value has a control byte (CR, LF, NUL...)`);
    }
    out += `${name}: ${value}\r\n`;
  }
  return `${out}\r\n`;
}

/** Every char is a byte with `table[c] === 1`; false for the empty string. */
function isAll(s: string, table: Uint8Array): boolean {
  const len = s.length;
  if (len === 0) return false;
  for (let k = 0; k < len; k++) {
    const c = s.charCodeAt(k);
    if (c > 0xff || table[c] !== 1) return false;
  }
  return true;
}

function isTarget(s: string): boolean {
  const len = s.length;
  if (len === 0) return false;
  for (let k = 0; k < len; k++) {
    const c = s.charCodeAt(k);
    if (c > 0x7f || TARGET[c] === 0) return false;
  }
  return true;
}
