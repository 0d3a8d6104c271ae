// Protocol detection ("sniffing"), used only where MeshConfig turns it on and a port names no
// protocol: reads the first bytes within a timeout and tells an HTTP/1 request line or the HTTP/2
// preface from anything else. Silence (a server-first protocol) and everything else mean TCP.

import type { Duplex } from 'node:stream';
import { H2_PREFACE } from './h2-preface.ts';

export type Detected = 'http1' | 'http2' | 'tcp';

// A method token and a space, as every HTTP/1 request line starts (RFC 9112 §3).
const HTTP1_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20} /;

export function detectProtocol(socket: Duplex, timeoutMs: number, done: (detected: Detected) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  let settled = false;
  const settle = (d: Detected) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
    done(d);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const verdict = classify(seen);
    if (verdict !== undefined) settle(verdict);
  };
  const timer = setTimeout(() => settle('tcp'), timeoutMs);
  socket.on('data', onData);
  socket.once('close', () => settle('tcp'));
  socket.resume();
}

/** A verdict once the bytes so far decide one; undefined while a longer prefix could still change it. */
function classify(bytes: Buffer): Detected | undefined {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.subarray(0, n).equals(H2_PREFACE.subarray(0, n)))
    return bytes.length >= H2_PREFACE.length ? 'http2' : undefined;
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 24));
  if (HTTP1_START.test(head)) return 'http1';
  // Still inside a would-be method token: wait for more, up to the longest method we accept.
  if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/.test(head) && bytes.length < 21) return undefined;
  return 'tcp';
}
