// Chunked transfer coding on the way out (RFC 9112 §7.1), for re-framing bodies the proxy forwards: a
// size line before each piece of data, CRLF after it, and a last chunk with optional trailers. Never
// writes chunk extensions. Write the pieces with socket.cork()/uncork() or writev to keep one packet.

import { fieldLines } from './head-writer.ts';

/** CRLF that follows every chunk's data. */
export const CHUNK_END = '\r\n';
/** The last chunk and the empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';

/** `hex-size CRLF` for `byteLength` (> 0) data bytes; a zero size would end the body, so it throws. */
export function chunkHeader(byteLength: number): string {
  if (!Number.isSafeInteger(byteLength) || byteLength <= 0) {
    throw new RangeError(`http1 chunk: size must be a positive integer, got ${byteLength}`);
  }
  return `${byteLength.toString(16)}\r\n`;
}

/** One buffer holding a whole chunk (size line, a copy of `data`, CRLF); for small pieces. */
export function encodeChunk(data: Uint8Array): Buffer {
  const header = chunkHeader(data.byteLength);
  const out = Buffer.allocUnsafe(header.length + data.byteLength + 2);
  out.write(header, 0, 'latin1');
  out.set(data, header.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

/** The last chunk with `trailers` (`[name, value, ...]`, checked like head fields), or LAST_CHUNK. */
export function lastChunk(trailers: readonly string[] | null): string {
  return trailers === null || trailers.length === 0 ? LAST_CHUNK : fieldLines('0\r\n', trailers);
}
