// The server name (SNI) of a TLS ClientHello, read without consuming it, for `tls` routes: the
// outbound TCP listener peeks, routes, then forwards the bytes untouched (the app's TLS is its own,
// end to end). Envoy's tls_inspector does the same job; only what routing needs is parsed.

import type { Duplex } from 'node:stream';

/** What the bytes so far say. `incomplete`: a longer prefix could still be a ClientHello. */
export type ClientHelloParse =
  | { kind: 'incomplete' }
  | { kind: 'not-tls' }
  | { kind: 'client-hello'; sni: string | undefined };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST_NAME = 0x00;
/** RFC 8446 §5.1: a plaintext record carries at most 2^14 bytes. */
const MAX_RECORD_BYTES = 16_384;
/** A DNS name is at most 253 characters (255 octets on the wire); letters, digits, `-`, `_`, `.`. */
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_.-]{0,252})$/;

/**
 * Reads a ClientHello from the start of a connection, chunk by chunk as TCP delivers it: TLS
 * records of type handshake (a ClientHello may span several records, and a record several
 * segments), then its server_name extension. Each byte is looked at once. Anything else, or a
 * ClientHello that breaks the grammar, is `not-tls`; records after the ClientHello are not read.
 */
export class ClientHelloReader {
  readonly #recordHeader = Buffer.alloc(5);
  #recordHeaderBytes = 0;
  /** Payload bytes of the current record still to come. */
  #recordLeft = 0;
  readonly #message: Buffer[] = [];
  #messageBytes = 0;
  /** The handshake message's length with its 4-byte header, once that header is in. */
  #messageWant = Number.POSITIVE_INFINITY;
  #verdict: ClientHelloParse = { kind: 'incomplete' };

  push(chunk: Buffer): ClientHelloParse {
    let i = 0;
    while (this.#verdict.kind === 'incomplete' && i < chunk.length) {
      if (this.#recordLeft === 0) {
        this.#recordHeaderByte(chunk[i++] as number);
        continue;
      }
      const n = Math.min(this.#recordLeft, chunk.length - i);
      this.#messageBytesIn(chunk.subarray(i, i + n));
      this.#recordLeft -= n;
      i += n;
    }
    return this.#verdict;
  }

  #recordHeaderByte(b: number): void {
    const h = this.#recordHeader;
    h[this.#recordHeaderBytes++] = b;
    if (this.#recordHeaderBytes === 1 && b !== RECORD_HANDSHAKE) this.#verdict = NOT_TLS;
    if (this.#recordHeaderBytes === 2 && b !== 0x03) this.#verdict = NOT_TLS;
    if (this.#recordHeaderBytes < 5) return;
    this.#recordHeaderBytes = 0;
    this.#recordLeft = h.readUInt16BE(3);
    if (this.#recordLeft === 0 || this.#recordLeft > MAX_RECORD_BYTES) this.#verdict = NOT_TLS;
  }

  #messageBytesIn(part: Buffer): void {
    const before = this.#messageBytes;
    this.#message.push(part);
    this.#messageBytes += part.length;
    if (before === 0 && part[0] !== HANDSHAKE_CLIENT_HELLO) {
      this.#verdict = NOT_TLS;
      return;
    }
    if (before < 4 && this.#messageBytes >= 4) {
      this.#messageWant = 4 + Buffer.concat(this.#message).readUIntBE(1, 3);
    }
    if (this.#messageBytes < this.#messageWant) return;
    const body = Buffer.concat(this.#message).subarray(4, this.#messageWant);
    const sni = serverNameOf(body);
    this.#verdict = sni === null ? NOT_TLS : { kind: 'client-hello', sni };
  }
}

const NOT_TLS: ClientHelloParse = { kind: 'not-tls' };

/** parseClientHello for bytes already in hand. */
export function parseClientHello(bytes: Buffer): ClientHelloParse {
  return new ClientHelloReader().push(bytes);
}

/** The host_name of the server_name extension; undefined without one; null when malformed. */
function serverNameOf(body: Buffer): string | undefined | null {
  const r = new Reader(body);
  r.skip(2 + 32); // legacy_version, random
  r.skip(r.u8()); // legacy_session_id
  const cipherSuites = r.u16();
  if (cipherSuites < 2 || cipherSuites % 2 !== 0) return null;
  r.skip(cipherSuites);
  const compression = r.u8();
  if (compression < 1) return null;
  r.skip(compression);
  if (r.isBad) return null;
  if (r.isDone) return undefined; // no extensions (TLS 1.2 and older may omit them)
  const end = r.u16() + r.at;
  if (end !== body.length) return null;
  let sni: string | undefined;
  while (!r.isBad && r.at < end) {
    const type = r.u16();
    const length = r.u16();
    if (type !== EXTENSION_SERVER_NAME) {
      r.skip(length);
      continue;
    }
    if (sni !== undefined) return null; // RFC 8446 §4.2: one extension of each type
    const name = hostNameOf(r.take(length));
    if (name === null) return null;
    sni = name;
  }
  return r.isBad || r.at !== end ? null : sni;
}

/** RFC 6066 §3: a ServerNameList holding exactly one host_name, ASCII, without a trailing dot. */
function hostNameOf(extension: Buffer): string | null {
  const r = new Reader(extension);
  const listEnd = r.u16() + r.at;
  if (listEnd !== extension.length) return null;
  let name: string | null = null;
  while (!r.isBad && r.at < listEnd) {
    const type = r.u8();
    const value = r.take(r.u16());
    if (type !== NAME_TYPE_HOST_NAME) continue;
    if (name !== null) return null;
    name = value.toString('latin1').toLowerCase();
  }
  if (r.isBad || name === null || !HOST_NAME.test(name) || name.endsWith('.')) return null;
  return name;
}

/** Big-endian reads that never throw: past the end, `isBad` turns true and reads give 0. */
class Reader {
  readonly #b: Buffer;
  at = 0;
  isBad = false;

  constructor(b: Buffer) {
    this.#b = b;
  }

  get isDone(): boolean {
    return this.at === this.#b.length;
  }

  u8(): number {
    if (!this.#has(1)) return 0;
    return this.#b[this.at++] as number;
  }

  u16(): number {
    if (!this.#has(2)) return 0;
    const v = this.#b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  skip(n: number): void {
    if (this.#has(n)) this.at += n;
  }

  take(n: number): Buffer {
    if (!this.#has(n)) return Buffer.alloc(0);
    const out = this.#b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  #has(n: number): boolean {
    if (this.at + n <= this.#b.length) return true;
    this.isBad = true;
    this.at = this.#b.length;
    return false;
  }
}

/**
 * How a peek ended. `timeout`: the client sent no complete ClientHello in time (Envoy's
 * continue_on_listener_filters_timeout: it is routed as a connection without SNI). `too-large`:
 * more than `maxBytes` without a complete ClientHello. `closed`: the client left first.
 */
export type ClientHelloPeek =
  | { kind: 'tls'; sni: string | undefined }
  | { kind: 'not-tls' }
  | { kind: 'timeout' }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'closed' };

export interface PeekOptions {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Reads from `socket` until its first bytes decide, then puts them back (unshift) and leaves it
 * paused: the caller forwards every byte it would have had. On `closed` the socket is left alone.
 */
export function peekClientHello(socket: Duplex, o: PeekOptions): Promise<ClientHelloPeek> {
  return new Promise((resolve) => {
    const reader = new ClientHelloReader();
    const seen: Buffer[] = [];
    let seenBytes = 0;
    const settle = (result: ClientHelloPeek) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.pause();
      if (result.kind !== 'closed' && seenBytes > 0) socket.unshift(Buffer.concat(seen, seenBytes));
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      seen.push(chunk);
      seenBytes += chunk.length;
      const parsed = reader.push(chunk);
      if (parsed.kind === 'client-hello') settle({ kind: 'tls', sni: parsed.sni });
      else if (parsed.kind === 'not-tls') settle(parsed);
      else if (seenBytes > o.maxBytes) settle({ kind: 'too-large', bytes: seenBytes });
    };
    // A half-close mid-ClientHello: the bytes are consumed and cannot be put back after `end`.
    const onGone = () => settle({ kind: 'closed' });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), o.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    socket.resume();
  });
}
