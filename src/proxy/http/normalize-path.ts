// MeshConfig pathNormalization on a request's target, as Istio configures Envoy for each of its four
// settings (normalize_path, merge_slashes, path_with_escaped_slashes_action). The runtime builds the
// normalizer once per snapshot; the router calls it once per request, before anything reads the path.
// The query is never touched, and neither is a target that is not a path (`*`, CONNECT's host:port).

/** Istio's MeshConfig pathNormalization.normalization, DEFAULT already read as BASE. */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/** Why a path cannot be normalized: the request is refused (400), never forwarded. */
export interface PathRefusal {
  readonly reason: 'escaped-nul' | 'bad-escape' | 'fragment' | 'bad-char';
  /** Completes "the path …": what is wrong with it. */
  readonly words: string;
}

/** The normalized target, the very string given when nothing changes, or why it is refused. */
export type PathNormalizer = (target: string) => string | PathRefusal;

const refusal = (reason: PathRefusal['reason'], words: string): PathRefusal =>
  Object.freeze({ reason, words });

const ESCAPED_NUL = refusal('escaped-nul', 'holds %00, an encoded NUL, which no path may carry');
const BAD_ESCAPE = refusal('bad-escape', 'holds a "%" not followed by two hex digits (RFC 3986 §2.1)');
const FRAGMENT = refusal('fragment', 'holds a fragment ("#"), which a request never carries (RFC 9110 §7.1)');
const BAD_CHAR = refusal('bad-char', 'holds a NUL or a character beyond one byte');

const NONE: PathNormalizer = (target) => target;

/** The normalizer for `mode`: built once per snapshot, a plain function per request. */
export function pathNormalizer(mode: PathNormalization): PathNormalizer {
  if (mode === 'NONE') return NONE;
  const isMerging = mode !== 'BASE';
  const isDecodingSlashes = mode === 'DECODE_AND_MERGE_SLASHES';
  return (target) => {
    if (target.charCodeAt(0) !== SLASH) return absoluteForm(target, isMerging, isDecodingSlashes);
    if (!needsWork(target, 0, isMerging)) return target;
    return normalizeFrom(target, 0, isMerging, isDecodingSlashes);
  };
}

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const QUERY = 0x3f;
const HASH = 0x23;

function table(fill: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) t[c] = fill(c) ? 1 : 0;
  return t;
}

/**
 * Bytes Chromium's path canonicalizer (Envoy's normalize_path) writes percent-encoded: controls,
 * space, `"` `<` `>` `^` `` ` `` `{` `|` `}` and DEL (bytes above 0x7E too). Only HTTP/2 can bring them:
 * the HTTP/1 codec refuses them in a path.
 */
const ESCAPED = table((c) => c <= 0x20 || c === 0x7f || '"<>^`{|}'.includes(String.fromCharCode(c)));

/** ALPHA DIGIT - . _ ~ (RFC 3986 §2.3): written as themselves once decoded. */
const UNRESERVED = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === DOT ||
    c === 0x5f ||
    c === 0x7e,
);

/** Bytes that send a path to the slow path wherever they stand (a `.` or `/` only after a `/`). */
const WORK = table((c) => c === PERCENT || c === BACKSLASH || c === HASH || ESCAPED[c] === 1);

/**
 * True when the path (up to `?`) holds something to normalize: a `%`, `\`, `#` or byte to escape, a
 * `/.` (a dot segment, or just `/.well-known`), and `//` when merging. The hot path: one pass of
 * charCodeAt, no allocation.
 */
function needsWork(target: string, from: number, isMerging: boolean): boolean {
  const len = target.length;
  for (let i = from; i < len; i++) {
    const c = target.charCodeAt(i);
    if (c === SLASH) {
      const next = target.charCodeAt(i + 1);
      if (next === DOT || (isMerging && next === SLASH)) return true;
    } else if (c === QUERY) return false;
    else if (c > 0x7e || WORK[c] === 1) return true;
  }
  return false;
}

/** `http://host/a/../b` → `http://host/b`: the path of an absolute-form target; anything else as it is. */
function absoluteForm(target: string, isMerging: boolean, isDecodingSlashes: boolean): string | PathRefusal {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(target);
  if (scheme === null) return target;
  const slash = target.indexOf('/', scheme[0].length);
  const query = target.indexOf('?', scheme[0].length);
  if (slash === -1 || (query !== -1 && query < slash)) return target;
  if (!needsWork(target, slash, isMerging)) return target;
  return normalizeFrom(target, slash, isMerging, isDecodingSlashes);
}

/**
 * The slow path, in Envoy's order: escapes decoded (unreserved characters always, `%2F` and `%5C` as
 * `/` when `isDecodingSlashes`; others kept as sent, hex case included; malformed ones and `%00`
 * refused), `\` read as `/`, bytes Chromium escapes percent-encoded, then dot segments removed
 * (RFC 3986 §5.2.4: `..` above the root stays at the root), then `//` merged when `isMerging`.
 */
function normalizeFrom(
  target: string,
  pathStart: number,
  isMerging: boolean,
  isDecodingSlashes: boolean,
): string | PathRefusal {
  const q = target.indexOf('?', pathStart);
  const end = q === -1 ? target.length : q;
  let decoded = '';
  let copied = pathStart; // target[copied, i) is still to be appended as it is
  for (let i = pathStart; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c !== PERCENT && c !== BACKSLASH && c !== HASH && c <= 0x7e && ESCAPED[c] === 0) continue;
    decoded += target.slice(copied, i);
    copied = i + 1;
    if (c === PERCENT) {
      const byte = hexByte(target, i + 1, end);
      if (byte < 0) return BAD_ESCAPE;
      if (byte === 0) return ESCAPED_NUL;
      copied = i + 3;
      if (UNRESERVED[byte] === 1) decoded += String.fromCharCode(byte);
      else if (isDecodingSlashes && (byte === SLASH || byte === BACKSLASH)) decoded += '/';
      else decoded += target.slice(i, i + 3);
      i += 2;
    } else if (c === BACKSLASH) decoded += '/';
    else if (c === HASH) return FRAGMENT;
    else if (c === 0 || c > 0xff) return BAD_CHAR;
    else decoded += `%${c < 16 ? '0' : ''}${c.toString(16).toUpperCase()}`;
  }
  decoded += target.slice(copied, end);
  let path = withoutDotSegments(decoded);
  if (isMerging) path = path.replace(/\/{2,}/g, '/');
  return target.slice(0, pathStart) + path + target.slice(end);
}

/** The byte `%XY` encodes at `target[at, at+2)`, or -1 when those are not two hex digits before `end`. */
function hexByte(target: string, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const hi = hexValue(target.charCodeAt(at));
  const lo = hexValue(target.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * RFC 3986 §5.2.4 on a path that starts with `/`, as Chromium does it: `.` segments dropped, `..`
 * drops the segment before it (an empty one too: `/a//../b` is `/a/b`) and never climbs above the
 * root; a path ending in `/.` or `/..` keeps its final `/`.
 */
function withoutDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let k = 1; k <= last; k++) {
    const s = segments[k] as string;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (k === last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}
