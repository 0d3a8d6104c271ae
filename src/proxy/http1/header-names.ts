// Known header names, interned lower-case, found from raw bytes without allocating: a hash of length,
// first and last byte picks a slot, then the bytes are compared folded. Ids below SPECIAL_COUNT carry
// framing or connection meaning and are counted per message.

export const H_CONTENT_LENGTH = 0;
export const H_TRANSFER_ENCODING = 1;
export const H_HOST = 2;
export const H_CONNECTION = 3;
export const H_UPGRADE = 4;
export const H_EXPECT = 5;
/** Ids 0..SPECIAL_COUNT-1 are counted per message by the field reader. */
export const SPECIAL_COUNT = 6;

export const FORBIDDEN_IN_TRAILER = 1;

const FORBIDDEN = [
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'upgrade',
  'expect',
  'te',
  'keep-alive',
  'proxy-connection',
  'trailer',
  'authorization',
  'proxy-authorization',
  'proxy-authenticate',
  'www-authenticate',
  'cookie',
  'set-cookie',
  'cache-control',
  'content-type',
  'content-encoding',
  'content-range',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'max-forwards',
  'location',
  'age',
  'expires',
  'vary',
  'retry-after',
];
const OTHERS = [
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-charset',
  'accept-ranges',
  'content-language',
  'content-location',
  'content-disposition',
  'date',
  'etag',
  'last-modified',
  'origin',
  'pragma',
  'referer',
  'server',
  'user-agent',
  'via',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'access-control-allow-origin',
  'strict-transport-security',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'upgrade-insecure-requests',
  'dnt',
  'grpc-status',
  'grpc-message',
  'grpc-timeout',
];

/** Lower-case names by id; the first six are the H_* ids above, in order. */
export const HEADER_NAMES: readonly string[] = Object.freeze([...FORBIDDEN, ...OTHERS]);
export const HEADER_FLAGS: Uint8Array = Uint8Array.from(HEADER_NAMES, (_, id) =>
  id < FORBIDDEN.length ? FORBIDDEN_IN_TRAILER : 0,
);

/** Hash of a name from its length and first and last bytes (case folded): no per-byte work. */
export function nameHash(len: number, first: number, last: number): number {
  return (len * 31 + (first | 0x20) * 7 + (last | 0x20)) | 0;
}

const SLOT_MASK = 1023;
const SLOTS = new Int16Array(SLOT_MASK + 1).fill(-1);
const BYTES: Uint8Array[] = [];
const BY_NAME = new Map<string, number>();
for (const [id, name] of HEADER_NAMES.entries()) {
  const bytes = Buffer.from(name, 'latin1');
  BYTES.push(bytes);
  BY_NAME.set(name, id);
  let slot = nameHash(bytes.length, bytes[0] as number, bytes[bytes.length - 1] as number) & SLOT_MASK;
  while (SLOTS[slot] !== -1) slot = (slot + 1) & SLOT_MASK;
  SLOTS[slot] = id;
}

/**
 * Id of the known name in `buf[start, end)` (non-empty), compared case-insensitively, or -1. The bytes
 * must already be validated as token characters: the `| 0x20` fold is exact only for them.
 */
export function lookupHeaderName(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  const hash = nameHash(len, buf[start] as number, buf[end - 1] as number);
  for (let slot = hash & SLOT_MASK; ; slot = (slot + 1) & SLOT_MASK) {
    const id = SLOTS[slot] as number;
    if (id === -1) return -1;
    const known = BYTES[id] as Uint8Array;
    if (known.length !== len) continue;
    let k = 0;
    while (k < len && ((buf[start + k] as number) | 0x20) === known[k]) k++;
    if (k === len) return id;
  }
}

const LOOKALIKES = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'proxy-connection']);

/**
 * True for a lower-case name with `_` that spells a framing or connection header with hyphens
 * (`content_length`): refused whatever MeshConfig http.headersWithUnderscoresAction says.
 */
export function isFramingLookalike(lowerName: string): boolean {
  return LOOKALIKES.has(lowerName.replaceAll('_', '-'));
}

/** Id of an already lower-cased name, or -1 (the slow path, for names split across reads). */
export function headerNameId(lowerName: string): number {
  return BY_NAME.get(lowerName) ?? -1;
}
