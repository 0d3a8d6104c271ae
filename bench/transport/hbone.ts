// Transport (c): HBONE as Istio ambient does it. One mTLS connection (ALPN h2) to the workload's one
// tunnel port; each inner HTTP/1.1 connection is an HTTP/2 CONNECT stream to the target address,
// kept open and reused for keep-alive, one request at a time, with the same framing as (a).

import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { encodeRequest, HBONE_TARGET, MessageReader } from './h1-framing.ts';
import { openH2Session } from './h2-session.ts';
import type { ConnectOptions } from './mtls.ts';
import type { Done, Transport } from './transport.ts';

const MAX_TUNNELS = 512;

class Tunnel {
  readonly stream: ClientHttp2Stream;
  readonly reader: MessageReader;
  current: Done | undefined;

  constructor(stream: ClientHttp2Stream, onAnswer: (t: Tunnel, status: number) => void) {
    this.stream = stream;
    this.reader = new MessageReader(true, (status) => onAnswer(this, status));
  }
}

export class HboneTransport implements Transport {
  readonly #session: ClientHttp2Session;
  readonly #idle: Tunnel[] = [];
  readonly #waiting: Array<[number, Done]> = [];
  #count = 0;
  #opening = 0;

  static async open(connect: Omit<ConnectOptions, 'alpn'>): Promise<HboneTransport> {
    return new HboneTransport(await openH2Session(connect));
  }

  constructor(session: ClientHttp2Session) {
    this.#session = session;
  }

  send(n: number, done: Done): void {
    const tunnel = this.#idle.pop();
    if (tunnel !== undefined) {
      this.#exchange(tunnel, n, done);
      return;
    }
    this.#waiting.push([n, done]);
    if (this.#count + this.#opening < MAX_TUNNELS && this.#opening < this.#waiting.length) this.#grow();
  }

  close(): void {
    this.#session.destroy();
    for (const [, done] of this.#waiting.splice(0)) done(false);
  }

  #exchange(tunnel: Tunnel, n: number, done: Done): void {
    tunnel.current = done;
    tunnel.stream.write(encodeRequest(n));
  }

  #grow(): void {
    if (this.#session.destroyed) {
      this.#waiting.shift()?.[1](false);
      return;
    }
    this.#opening++;
    const stream = this.#session.request({ ':method': 'CONNECT', ':authority': HBONE_TARGET });
    let isOpening = true;
    const opened = () => {
      const was = isOpening;
      isOpening = false;
      if (was) this.#opening--;
      return was;
    };
    stream.once('response', (headers) => {
      opened();
      if (headers[':status'] !== 200) {
        stream.destroy();
        this.#waiting.shift()?.[1](false);
        return;
      }
      this.#count++;
      const tunnel = new Tunnel(stream, (t, status) => this.#answered(t, status));
      stream.on('data', (chunk: Buffer) => {
        tunnel.reader.feed(chunk);
        if (tunnel.reader.isBroken) stream.destroy();
      });
      stream.on('close', () => this.#lost(tunnel));
      this.#release(tunnel);
    });
    stream.on('error', () => stream.destroy());
    stream.once('close', () => {
      if (opened()) this.#waiting.shift()?.[1](false);
    });
  }

  #answered(tunnel: Tunnel, status: number): void {
    const done = tunnel.current;
    tunnel.current = undefined;
    this.#release(tunnel);
    done?.(status === 200);
  }

  #release(tunnel: Tunnel): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#idle.push(tunnel);
    else this.#exchange(tunnel, next[0], next[1]);
  }

  #lost(tunnel: Tunnel): void {
    this.#count--;
    const at = this.#idle.indexOf(tunnel);
    if (at !== -1) this.#idle.splice(at, 1);
    const done = tunnel.current;
    tunnel.current = undefined;
    done?.(false);
  }
}
