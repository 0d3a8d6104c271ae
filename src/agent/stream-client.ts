// One workload's own stream to the control plane (a sidecar's): connects with the workload's
// certificate, says hello with what it holds, and hands each push to `onPush`, answering ACK or
// NACK with the reason. When the control plane goes away it reconnects with back-off (StreamLink)
// and resumes from what it holds, so only changes come again.

import type { TLSSocket } from 'node:tls';
import { encodeMessage, type PlaneMessage, type WorkloadRef } from '../wire/index.ts';
import type { AgentStream, StreamHandlers } from './agent-stream.ts';
import { PushQueue } from './push-queue.ts';
import { StreamLink } from './stream-link.ts';

export interface StreamClientOptions extends StreamHandlers {
  host: string;
  port: number;
  /** The proxy's certificate chain, key and the mesh's trust bundle (PEM); read on every connect. */
  credentials(): { cert: string; key: string; ca: string };
  /** First and longest wait between attempts (default 250 ms and 15 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection attempt, TLS handshake and upgrade answer included, gives up after this (default 10 s). */
  connectTimeoutMs?: number;
}

export class StreamClient implements AgentStream {
  readonly #o: StreamClientOptions;
  readonly #link: StreamLink;
  readonly #pushes: PushQueue;

  constructor(options: StreamClientOptions) {
    this.#o = options;
    this.#pushes = new PushQueue(options.onPush);
    this.#link = new StreamLink({
      host: options.host,
      port: options.port,
      credentials: options.credentials,
      onOpen: (socket) => {
        socket.write(encodeMessage({ hello: this.#o.hello() }));
        this.#o.onState('connected', `${this.#o.host}:${this.#o.port}`);
      },
      onMessage: (message, socket) => this.#onMessage(message, socket),
      onLost: (why) => this.#o.onState('disconnected', why),
      ...(options.minBackoffMs === undefined ? {} : { minBackoffMs: options.minBackoffMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    });
  }

  start(): void {
    this.#link.start();
  }

  /** Says goodbye (the workload leaves callers' rotation at once), then closes. */
  async stop(workload?: WorkloadRef): Promise<void> {
    await this.#link.stop(workload === undefined ? undefined : encodeMessage({ goodbye: { workload } }));
  }

  /** Sends a message if connected (health reports); dropped otherwise, the next hello says it again. */
  send(line: string): void {
    this.#link.send(line);
  }

  #onMessage(message: PlaneMessage, socket: TLSSocket): void {
    if ('error' in message) {
      this.#o.onError(message.error);
      return;
    }
    if ('drained' in message) {
      this.#o.onDrained?.(message.drained);
      return;
    }
    if ('push' in message) this.#pushes.add(message.push, socket);
  }
}
