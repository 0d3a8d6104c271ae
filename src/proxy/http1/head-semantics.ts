// Message-level rules applied once a header section is complete, shared by the request and response
// parsers: framing from Content-Length / Transfer-Encoding (RFC 9112 §6), and the connection options
// (Connection, Upgrade, Expect) that decide keep-alive, upgrades and 100-continue (RFC 9112 §9.3).

import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE } from './body-reader.ts';
import type { RejectReason } from './errors.ts';
import type { FieldReader } from './field-reader.ts';
import {
  CONN_CLOSE,
  CONN_FRAMING,
  CONN_INVALID,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  connectionOptions,
  equalsToken,
  isValidUpgrade,
  parseContentLength,
  transferEncodingReason,
} from './framing.ts';
import { H_CONNECTION, H_CONTENT_LENGTH, H_EXPECT, H_TRANSFER_ENCODING, H_UPGRADE } from './header-names.ts';

export type Framing = 'none' | 'length' | 'chunked';

/** checkFraming() results besides a Content-Length (>= 0). */
export const FRAMING_NONE = -1;
export const FRAMING_CHUNKED = -2;

/**
 * Framing of a message: a Content-Length, FRAMING_NONE, FRAMING_CHUNKED, or why it is refused. Strict:
 * CL with TE, repeated CL or TE lines (even equal), TE on HTTP/1.0, and any TE but one final `chunked`.
 */
export function checkFraming(f: FieldReader, isHttp11: boolean, maxBodyBytes: number): number | RejectReason {
  const cl = f.counts[H_CONTENT_LENGTH] as number;
  const te = f.counts[H_TRANSFER_ENCODING] as number;
  if (cl > 0 && te > 0) return 'cl-and-te';
  if (te > 0) {
    if (te > 1) return 'te-repeated';
    if (!isHttp11) return 'te-http10';
    return transferEncodingReason(firstValue(f, H_TRANSFER_ENCODING)) ?? FRAMING_CHUNKED;
  }
  if (cl === 0) return FRAMING_NONE;
  if (cl > 1) return 'cl-repeated';
  const n = parseContentLength(firstValue(f, H_CONTENT_LENGTH));
  if (n < 0) return n === -1 ? 'cl-invalid' : 'cl-overflow';
  return n > maxBodyBytes ? 'body-too-large' : n;
}

/** BODY_* kind of a checkFraming() number. */
export function bodyKind(framing: number): number {
  return framing === FRAMING_NONE ? BODY_NONE : framing === FRAMING_CHUNKED ? BODY_CHUNKED : BODY_LENGTH;
}

export const S_KEEP_ALIVE = 1;
export const S_CONTINUE = 2;
export const S_UPGRADE = 4;

/**
 * S_* bits from Connection, Upgrade and (requests only) Expect, or why they are refused. Keep-alive per
 * RFC 9112 §9.3: `close` ends it; HTTP/1.1 persists; HTTP/1.0 persists only with `keep-alive`.
 */
export function sessionBits(f: FieldReader, isHttp11: boolean, isRequest: boolean): number | RejectReason {
  const counts = f.counts;
  let conn = 0;
  const connCount = counts[H_CONNECTION] as number;
  if (connCount === 1) conn = connectionOptions(firstValue(f, H_CONNECTION));
  else if (connCount > 1) conn = connectionOptions(joinedValue(f, H_CONNECTION));
  if ((conn & CONN_INVALID) !== 0) return 'connection-invalid';
  if ((conn & CONN_FRAMING) !== 0) return 'connection-framing';
  let bits = (conn & CONN_CLOSE) === 0 && (isHttp11 || (conn & CONN_KEEP_ALIVE) !== 0) ? S_KEEP_ALIVE : 0;
  if ((counts[H_UPGRADE] as number) > 0) {
    if (!isValidUpgrade(joinedValue(f, H_UPGRADE))) return 'upgrade-invalid';
    if (isHttp11 && (conn & CONN_UPGRADE) !== 0) bits |= S_UPGRADE;
  }
  const expectCount = counts[H_EXPECT] as number;
  if (isRequest && expectCount > 0) {
    if (expectCount > 1 || !equalsToken(firstValue(f, H_EXPECT), '100-continue')) return 'expect-unsupported';
    if (isHttp11) bits |= S_CONTINUE;
  }
  return bits;
}

function firstValue(f: FieldReader, id: number): string {
  return f.fields[f.firstValue[id] as number] as string;
}

/** Values of every field line named `id`, joined with ", " (RFC 9110 §5.3). */
export function joinedValue(f: FieldReader, id: number): string {
  const fields = f.fields;
  const first = f.firstValue[id] as number;
  if ((f.counts[id] as number) === 1) return fields[first] as string;
  const name = fields[first - 1];
  let out = fields[first] as string;
  for (let k = first + 1; k < fields.length; k += 2) if (fields[k] === name) out += `, ${fields[k + 1]}`;
  return out;
}
