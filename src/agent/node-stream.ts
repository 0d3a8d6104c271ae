// A node proxy's one stream to the control plane, shared by every workload of its host (ztunnel's
// model): one mTLS connection, opened with the certificate of any of its current workloads, on which
// each workload says its own hello with a proof (its key's signature over the connection's keying
// material, src/wire/stream-proof.ts), so that it speaks as itself whoever opened the connection.
// Messages are routed to workloads by the name they carry. Workloads join and leave as channels:
// the first opens the connection, the last closes it. Resources pushed to several workloads alike
// are kept once (resource-interner.ts).

import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '../config/core.ts';
import {
  encodeMessage,
  type PlaneMessage,
  signStreamProof,
  streamProofMaterial,
  type WorkloadRef,
} from '../wire/index.ts';
import type { AgentStream, SharedStream, StreamCredentials, StreamHandlers } from './agent-stream.ts';
import { PushQueue } from './push-queue.ts';
import { ResourceInterner } from './resource-interner.ts';
import { StreamLink } from './stream-link.ts';

export interface NodeStreamOptions {
  host: string;
  port: number;
  /** First and longest wait between attempts, and between hellos of a refused workload (250 ms, 15 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

type ChannelOptions = { workload: WorkloadRef; credentials: StreamCredentials } & StreamHandlers;

/** One workload on the node's stream. */
interface Channel {
  o: ChannelOptions;
  key: string;
  pushes: PushQueue;
  /** The socket its hello was said on: lines for it go only there. */
  saidOn: TLSSocket | undefined;
  /** Refusals in a row, for the back-off before its next hello. */
  refusals: number;
  retry: NodeJS.Timeout | undefined;
}

export class NodeStream implements SharedStream {
  readonly #o: NodeStreamOptions;
  /** `namespace/name` → channel, in the order they joined. */
  readonly #channels = new Map<string, Channel>();
  #link: StreamLink | undefined;
  /** One object for each resource the workloads are pushed alike. */
  readonly #interner = new ResourceInterner();

  constructor(options: NodeStreamOptions) {
    this.#o = options;
  }

  /** Workloads on the stream now. */
  get size(): number {
    return this.#channels.size;
  }

  channel(o: ChannelOptions): AgentStream {
    const ch: Channel = {
      o,
      key: `${o.workload.namespace}/${o.workload.name}`,
      pushes: new PushQueue(o.onPush),
      saidOn: undefined,
      refusals: 0,
      retry: undefined,
    };
    return {
      start: () => this.#attach(ch),
      send: (line) => {
        if (ch.saidOn !== undefined && ch.saidOn === this.#link?.socket) ch.saidOn.write(line);
      },
      stop: (workload) => this.#detach(ch, workload),
    };
  }

  #attach(ch: Channel): void {
    if (this.#channels.has(ch.key)) throw new Error(`workload ${ch.key} is on the node's stream already`);
    this.#channels.set(ch.key, ch);
    if (this.#link === undefined) {
      this.#link = this.#newLink();
      this.#link.start();
      return;
    }
    const socket = this.#link.socket;
    if (socket !== undefined) this.#sayHello(ch, socket);
  }

  /** Says the workload's goodbye on the stream and lets it go; the last one closes the connection. */
  async #detach(ch: Channel, workload: WorkloadRef | undefined): Promise<void> {
    if (this.#channels.get(ch.key) !== ch) return;
    this.#channels.delete(ch.key);
    clearTimeout(ch.retry);
    const socket = ch.saidOn;
    ch.saidOn = undefined;
    const goodbye =
      workload === undefined || socket === undefined || socket !== this.#link?.socket
        ? undefined
        : encodeMessage({ goodbye: { workload } });
    if (this.#channels.size === 0) {
      const link = this.#link;
      this.#link = undefined;
      await link?.stop(goodbye);
      return;
    }
    if (goodbye === undefined || socket === undefined) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 1000);
      socket.write(goodbye, () => {
        clearTimeout(done);
        resolve();
      });
    });
  }

  #newLink(): StreamLink {
    return new StreamLink({
      host: this.#o.host,
      port: this.#o.port,
      credentials: () => this.#connectAs(),
      onOpen: (socket) => {
        for (const ch of this.#channels.values()) this.#sayHello(ch, socket);
      },
      onMessage: (message, socket) => this.#onMessage(message, socket),
      onLost: (why) => {
        for (const ch of this.#channels.values()) {
          clearTimeout(ch.retry);
          ch.retry = undefined;
          ch.saidOn = undefined;
          ch.o.onState('disconnected', why);
        }
      },
      ...(this.#o.minBackoffMs === undefined ? {} : { minBackoffMs: this.#o.minBackoffMs }),
      ...(this.#o.maxBackoffMs === undefined ? {} : { maxBackoffMs: this.#o.maxBackoffMs }),
    });
  }

  /**
   * The certificate the connection opens with: the first workload's whose certificate is still
   * valid. It decides nothing for the others, which each prove themselves.
   */
  #connectAs(): { cert: string; key: string; ca: string } | undefined {
    let first: Channel | undefined;
    for (const ch of this.#channels.values()) {
      first ??= ch;
      const expiry = Date.parse(ch.o.credentials.expiry() ?? '');
      if (expiry > Date.now() + 10_000) return ch.o.credentials.pem();
    }
    return first?.o.credentials.pem();
  }

  /** The workload's hello on `socket`, with its proof for this connection (its certificate now). */
  #sayHello(ch: Channel, socket: TLSSocket): void {
    let proof: { certificateChain: string; signature: string };
    try {
      const pem = ch.o.credentials.pem();
      proof = {
        certificateChain: pem.cert,
        signature: signStreamProof(pem.key, streamProofMaterial(socket)),
      };
    } catch (err) {
      ch.o.onError({
        code: ErrorCode.CertificateInvalid,
        message: `cannot prove workload ${ch.key} on the node's stream: ${(err as Error).message}`,
        workload: ch.o.workload,
      });
      return;
    }
    socket.write(encodeMessage({ hello: { ...ch.o.hello(), proof } }));
    ch.saidOn = socket;
    ch.o.onState('connected', `${this.#o.host}:${this.#o.port}`);
  }

  #onMessage(message: PlaneMessage, socket: TLSSocket): void {
    if ('push' in message) {
      const ch = this.#channelOf(message.push?.workload);
      if (ch?.saidOn !== socket) return;
      ch.refusals = 0;
      this.#interner.delta(message.push.resources);
      ch.pushes.add(message.push, socket);
      return;
    }
    if ('drained' in message) {
      const ch = this.#channelOf(message.drained?.workload);
      if (ch?.saidOn === socket) ch.o.onDrained?.(message.drained);
      return;
    }
    if ('error' in message) {
      const error = message.error;
      if (error?.workload === undefined) {
        for (const ch of this.#channels.values()) ch.o.onError(error);
        return;
      }
      const ch = this.#channelOf(error.workload);
      if (ch?.saidOn !== socket) return;
      ch.o.onError(error);
      if (error.code === ErrorCode.Forbidden) this.#helloLater(ch, socket);
    }
  }

  /**
   * The control plane refused the workload (its session ended): it says hello again after back-off,
   * as a sidecar reconnects after its stream is closed, while the other workloads go on.
   */
  #helloLater(ch: Channel, socket: TLSSocket): void {
    ch.saidOn = undefined;
    clearTimeout(ch.retry);
    const min = this.#o.minBackoffMs ?? 250;
    const max = this.#o.maxBackoffMs ?? 15_000;
    const ceiling = Math.min(max, min * 2 ** ch.refusals);
    ch.refusals = Math.min(ch.refusals + 1, 30);
    ch.retry = setTimeout(
      () => {
        ch.retry = undefined;
        if (this.#channels.get(ch.key) === ch && this.#link?.socket === socket) this.#sayHello(ch, socket);
      },
      min / 2 + Math.random() * ceiling,
    );
  }

  #channelOf(w: WorkloadRef | undefined): Channel | undefined {
    return w === undefined ? undefined : this.#channels.get(`${w.namespace}/${w.name}`);
  }
}
