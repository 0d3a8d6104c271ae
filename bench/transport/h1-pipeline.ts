// Transport (d): HTTP/1.1 over ONE mTLS connection with pipelining, and every request written in the
// same tick corked into one TLS write (as the proxy corks a head with its first body bytes). The only
// way HTTP/1.1 can coalesce several requests' writes; answers come back in order, so one slow answer
// holds up all those behind it, and a lost connection loses every request on it.

import type { TLSSocket } from 'node:tls';
import { encodeRequest, MessageReader } from './h1-framing.ts';
import { type ConnectOptions, connectMtls } from './mtls.ts';
import type { Done, Transport } from './transport.ts';

export class H1Pipeline implements Transport {
  readonly #socket: TLSSocket;
  readonly #reader: MessageReader;
  /** Callbacks of the requests in flight, oldest first (HTTP/1.1 answers in request order). */
  #inFlight: Done[] = [];
  #head = 0;
  #isCorked = false;

  static async open(connect: Omit<ConnectOptions, 'alpn'>): Promise<H1Pipeline> {
    return new H1Pipeline(await connectMtls({ ...connect, alpn: 'http/1.1' }));
  }

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.#reader = new MessageReader(true, (status) => this.#shift()?.(status === 200));
    socket.on('data', (chunk: Buffer) => {
      this.#reader.feed(chunk);
      if (this.#reader.isBroken) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (let done = this.#shift(); done !== undefined; done = this.#shift()) done(false);
    });
  }

  send(n: number, done: Done): void {
    if (this.#socket.destroyed) {
      done(false);
      return;
    }
    if (!this.#isCorked) {
      this.#isCorked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#isCorked = false;
        this.#socket.uncork();
      });
    }
    this.#inFlight.push(done);
    this.#socket.write(encodeRequest(n));
  }

  close(): void {
    this.#socket.destroy();
  }

  /** The oldest request's callback, removed; a moving head keeps this O(1). */
  #shift(): Done | undefined {
    const done = this.#inFlight[this.#head];
    if (done === undefined) return undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#inFlight.length) {
      this.#inFlight = this.#inFlight.slice(this.#head);
      this.#head = 0;
    }
    return done;
  }
}
