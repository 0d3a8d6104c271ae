// Byte-class lookup tables for the HTTP/1 parsers (RFC 9110 §5.6.2 token, §5.5 field-value, RFC 3986
// request-target). Hot loops index these with the byte instead of calling functions or regexes.

function table(fill: (byte: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = fill(b);
  return t;
}

const isAlnum = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** 1 for tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~ . */
export const TOKEN = table((b) => (isAlnum(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)) ? 1 : 0));

/** 1 for field-value bytes other than CR/LF: HTAB, SP, VCHAR, obs-text (0x80-0xFF). */
export const FIELD_VALUE = table((b) => (b === 0x09 || (b >= 0x20 && b !== 0x7f) ? 1 : 0));

/** Request-target byte classes. */
export const TARGET_OK = 1;
export const TARGET_QUERY = 2; // '?'
export const TARGET_CHECK = 3; // '%', '[', ']': allowed, validated once the target is complete
export const TARGET_QUERY_ONLY = 4; // { } | ^ ` \ : browsers send them raw in queries; never in paths
export const TARGET = table((b) => {
  const c = String.fromCharCode(b);
  if (isAlnum(b) || "-._~!$&'()*+,;=:/@".includes(c)) return TARGET_OK;
  if (c === '?') return TARGET_QUERY;
  if (c === '%' || c === '[' || c === ']') return TARGET_CHECK;
  if ('{}|^`\\'.includes(c)) return TARGET_QUERY_ONLY;
  return 0; // controls, SP, DEL, non-ASCII, '#', '"', '<', '>'
});

/** Hex digit value, or 255 when the byte is not a hex digit. */
export const HEX = table((b) => {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return 255;
});

/** 1 for bytes allowed in a Host reg-name: ALPHA, DIGIT, '-', '.', '_', '~' (no sub-delims, no %). */
export const HOST_NAME = table((b) =>
  isAlnum(b) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e ? 1 : 0,
);

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** `buf[start, end)` as a one-byte string: Buffer's own latin1Slice, skipping toString's argument checks. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}
