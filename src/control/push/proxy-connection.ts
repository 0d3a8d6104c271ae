// One proxy's stream connection, on the control plane's side: reads its lines (bounded), writes
// lines without unbounded buffering, notes when the proxy was last heard, and holds the sessions of
// the workloads that said hello on it (one for a sidecar, every workload of its host for a node
// proxy). The distributor decides what the messages mean.

import type { Duplex } from 'node:stream';
import {
  LineReader,
  MAX_PROXY_LINE_BYTES,
  PING_LINE,
  type PlaneMessage,
  type ProxyMessage,
} from '../../wire/index.ts';
import { LineWriter } from './line-writer.ts';
import type { ProxySession } from './proxy-session.ts';

const PING_BYTES = Buffer.from(PING_LINE);

/** A proxy whose unsent output passes this is not reading: it is dropped and reconnects. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

export interface ConnectionHandlers {
  /** A message that is a JSON object; anything else closes the connection before it gets here. */
  onMessage(connection: ProxyConnection, message: ProxyMessage): void;
  onClose(connection: ProxyConnection, reason: string): void;
}

export interface ConnectionPeer {
  /** The SPIFFE ID of the connection's verified client certificate. */
  spiffeId: string;
  address: string;
  /** This TLS connection's keying material for proofs (`streamProofMaterial`). */
  proofMaterial?: Buffer;
}

export class ProxyConnection {
  readonly id: string;
  readonly spiffeId: string;
  readonly address: string;
  readonly proofMaterial: Buffer | undefined;
  readonly connectedAt = new Date();
  /** `namespace/name` → the session of each workload that said hello here. */
  readonly sessions = new Map<string, ProxySession>();
  /**
   * A hello on it carried a proof: it speaks for several workloads (a node proxy), so refusing one
   * of them leaves it open. A connection for one workload is closed when its workload is refused,
   * and its proxy tries again after back-off.
   */
  isShared = false;
  /** When the proxy last sent anything (performance.now()). */
  lastSeen = performance.now();
  readonly #socket: Duplex;
  readonly #writer: LineWriter;
  #closed = false;

  constructor(id: string, socket: Duplex, peer: ConnectionPeer, handlers: ConnectionHandlers) {
    this.id = id;
    this.#socket = socket;
    this.#writer = new LineWriter(socket);
    this.spiffeId = peer.spiffeId;
    this.address = peer.address;
    this.proofMaterial = peer.proofMaterial;
    const lines = new LineReader(MAX_PROXY_LINE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      // Pings are most of what proxies send (10,000 proxies: 5,000 a second) and only prove the
      // proxy is there: a chunk that is exactly one ping skips the line reader and JSON.parse.
      if (chunk.length === PING_BYTES.length && !lines.isMidLine && chunk.equals(PING_BYTES)) {
        this.lastSeen = performance.now();
        return;
      }
      let got: string[];
      try {
        got = lines.push(chunk);
      } catch (err) {
        this.close((err as Error).message);
        return;
      }
      this.lastSeen = performance.now();
      for (const line of got) {
        if (line === '') continue;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          this.close('a stream message is not JSON');
          return;
        }
        if (typeof message !== 'object' || message === null || Array.isArray(message)) {
          this.close('a stream message is not a JSON object');
          return;
        }
        if (this.#closed) return;
        handlers.onMessage(this, message as ProxyMessage);
      }
    });
    const closed = (reason: string) => {
      if (this.#closed) return;
      this.#closed = true;
      handlers.onClose(this, reason);
    };
    socket.on('close', () => closed('stream closed'));
    socket.on('error', (err) => closed(err.message));
    socket.on('end', () => socket.end());
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  /**
   * Sends a line, whole or as parts to be joined; a proxy that stopped reading is dropped rather
   * than buffered without bound.
   */
  send(line: string | readonly string[]): void {
    if (this.#closed) return;
    if (this.#writer.unsentChars > MAX_UNSENT_BYTES) {
      this.close('the proxy is not reading its stream');
      return;
    }
    this.#writer.write(line);
  }

  sendMessage(message: PlaneMessage): void {
    this.send(`${JSON.stringify(message)}\n`);
  }

  /** Closes the connection; every session on it ends (the distributor hears `onClose`). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#socket.destroy(new Error(reason));
  }
}
