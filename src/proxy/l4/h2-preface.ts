// Whether a connection opens with the HTTP/2 connection preface (h2c with prior knowledge), read from
// its first bytes: for the forward proxy's CONNECT tunnels (h2c or HTTP/1.1 inside) and HTTP/1.1
// egress ports (h2c there gets a reply saying so). What follows the verdict is the caller's.

import type { Duplex } from 'node:stream';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** `h2`: the preface came; `other`: a byte that differs from it; `silent`: nothing in time, or closed. */
export type PrefaceVerdict = 'h2' | 'other' | 'silent';

/**
 * Reads until the bytes decide (one byte off the preface is enough; all 24 bytes for `h2`), then
 * hands the socket back paused, with what was read put back (`unshift`) for the next reader.
 */
export function sniffH2Preface(
  socket: Duplex,
  timeoutMs: number,
  done: (verdict: PrefaceVerdict) => void,
): void {
  let seen: Buffer = Buffer.alloc(0);
  let isSettled = false;
  const settle = (verdict: PrefaceVerdict) => {
    if (isSettled) return;
    isSettled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
    done(verdict);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    if (seen.compare(H2_PREFACE, 0, n, 0, n) !== 0) settle('other');
    else if (n === H2_PREFACE.length) settle('h2');
  };
  const onClose = () => settle('silent');
  const timer = setTimeout(() => settle('silent'), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.resume();
}
