// A unary gRPC client over one HTTP/2 cleartext session, as grpc-js runs one behind HTTP_PROXY: the
// session rides a CONNECT tunnel (or a straight connection) from mesh-client, is kept and shared by
// every call, and is replaced once it closes, errs or is told to go away. Each call has a deadline,
// sent as grpc-timeout and kept by a local timer.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants as h2,
  connect as h2Connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import {
  decodeGrpcMessage,
  deframer,
  frameMessage,
  GRPC_STATUS,
  GrpcError,
  grpcTimeout,
  statusFromHttp,
} from './grpc-wire.ts';
import type { MeshClient } from './mesh-client.ts';

export interface UnaryCall {
  /** `/package.Service/Method` */
  path: string;
  message: Uint8Array;
  /** Sent as metadata (lowercase names, text values). */
  metadata?: Record<string, string>;
  timeoutMs: number;
}

export class GrpcClient {
  readonly authority: string;
  #mesh: MeshClient;
  #session: ClientHttp2Session | undefined;
  #connecting: Promise<ClientHttp2Session> | undefined;

  /** `authority` is host:port as callers name it (`ratings.bookinfo:9080`). */
  constructor(authority: string, mesh: MeshClient) {
    this.authority = authority;
    this.#mesh = mesh;
  }

  /** Resolves with the reply message; rejects with a GrpcError (its code is the call's grpc-status). */
  async unary(call: UnaryCall): Promise<Buffer> {
    const deadline = Date.now() + call.timeoutMs;
    try {
      return await this.#call(await this.#sessionBy(deadline), call, deadline);
    } catch (e) {
      // A call the server never saw (the session was going away) is sent once more, on a new session.
      if (!(e instanceof UnprocessedError) || Date.now() >= deadline) throw e;
      return this.#call(await this.#sessionBy(deadline), call, deadline);
    }
  }

  /** Ends the session once its calls are done. */
  close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.closed) return Promise.resolve();
    return new Promise((resolve) => session.close(() => resolve()));
  }

  destroy(): void {
    this.#session?.destroy();
    this.#session = undefined;
  }

  #sessionBy(deadline: number): Promise<ClientHttp2Session> {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return Promise.resolve(current);
    this.#connecting ??= this.#connect(deadline).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(deadline: number): Promise<ClientHttp2Session> {
    const where = this.authority;
    let socket: Awaited<ReturnType<MeshClient['dial']>>;
    try {
      socket = await this.#mesh.dial(this.authority, Math.max(1, deadline - Date.now()));
    } catch (e) {
      throw new GrpcError(GRPC_STATUS.UNAVAILABLE, e instanceof Error ? e.message : String(e));
    }
    const session = h2Connect(`http://${this.authority}`, { createConnection: () => socket });
    const forget = () => {
      if (this.#session === session) this.#session = undefined;
    };
    session.on('close', forget);
    session.on('goaway', forget);
    session.on('error', forget); // the calls on it see their own stream errors
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          session.destroy();
          reject(
            new GrpcError(GRPC_STATUS.DEADLINE_EXCEEDED, `${where}: no HTTP/2 settings before the deadline`),
          );
        },
        Math.max(1, deadline - Date.now()),
      );
      session.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      session.once('error', (e) => {
        clearTimeout(timer);
        reject(new GrpcError(GRPC_STATUS.UNAVAILABLE, `${where}: ${e.message}`));
      });
      session.once('close', () => {
        clearTimeout(timer);
        reject(new GrpcError(GRPC_STATUS.UNAVAILABLE, `${where}: connection closed before HTTP/2 settings`));
      });
    });
    this.#session = session;
    return session;
  }

  #call(session: ClientHttp2Session, call: UnaryCall, deadline: number): Promise<Buffer> {
    const where = `${this.authority}${call.path}`;
    let stream: ClientHttp2Stream;
    try {
      stream = this.#open(session, call, deadline);
    } catch (e) {
      if (this.#session === session) this.#session = undefined;
      const message = e instanceof Error ? e.message : String(e);
      return Promise.reject(new UnprocessedError(GRPC_STATUS.UNAVAILABLE, `${where}: ${message}`));
    }
    return this.#await(stream, where, deadline);
  }

  #open(session: ClientHttp2Session, call: UnaryCall, deadline: number): ClientHttp2Stream {
    const stream = session.request({
      ...call.metadata,
      ':method': 'POST',
      ':scheme': 'http',
      ':authority': this.authority,
      ':path': call.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': grpcTimeout(deadline - Date.now()),
    });
    stream.end(frameMessage(call.message));
    return stream;
  }

  #await(stream: ClientHttp2Stream, where: string, deadline: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      let reply: Buffer | undefined;
      let failure: GrpcError | undefined;
      const fail = (e: GrpcError) => {
        failure ??= e;
        if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(
        () => fail(new GrpcError(GRPC_STATUS.DEADLINE_EXCEEDED, `${where}: no answer before the deadline`)),
        Math.max(1, deadline - Date.now()),
      );
      const onData = deframer((m) => {
        if (reply === undefined) reply = Buffer.from(m);
        else fail(new GrpcError(GRPC_STATUS.INTERNAL, `${where}: more than one reply message`));
      });
      stream.on('response', (h) => {
        headers = h;
      });
      stream.on('trailers', (t) => {
        trailers = t;
      });
      stream.on('data', (chunk: Buffer) => {
        try {
          onData(chunk);
        } catch (e) {
          fail(e as GrpcError);
        }
      });
      stream.on('error', (e) => fail(new GrpcError(GRPC_STATUS.UNAVAILABLE, `${where}: ${e.message}`)));
      stream.on('close', () => {
        clearTimeout(timer);
        const isRefused = stream.rstCode === h2.NGHTTP2_REFUSED_STREAM && headers[':status'] === undefined;
        const outcome = isRefused
          ? new UnprocessedError(GRPC_STATUS.UNAVAILABLE, `${where}: stream refused before it was processed`)
          : (failure ?? outcomeOf(where, headers, trailers, stream.rstCode));
        if (outcome !== undefined) reject(outcome);
        else if (reply === undefined)
          reject(new GrpcError(GRPC_STATUS.INTERNAL, `${where}: OK without a reply`));
        else resolve(reply);
      });
    });
  }
}

/** The server never processed the call (its stream was refused): sending it again is safe. */
class UnprocessedError extends GrpcError {}

/** The call's error from its headers and trailers (trailers-only answers carry the status in headers). */
function outcomeOf(
  where: string,
  headers: IncomingHttpHeaders,
  trailers: IncomingHttpHeaders,
  rstCode: number | undefined,
): GrpcError | undefined {
  const status = Number(headers[':status'] ?? 0);
  const raw = trailers['grpc-status'] ?? headers['grpc-status'];
  if (raw === undefined) {
    if (status !== 200 && status !== 0) {
      return new GrpcError(statusFromHttp(status), `${where}: HTTP status ${status} without grpc-status`);
    }
    const reset = rstCode !== undefined && rstCode !== 0 ? ` (stream reset, code ${rstCode})` : '';
    return new GrpcError(GRPC_STATUS.UNAVAILABLE, `${where}: ended without grpc-status${reset}`);
  }
  const code = Number(raw);
  if (code === GRPC_STATUS.OK) return undefined;
  const message = trailers['grpc-message'] ?? headers['grpc-message'];
  const text = typeof message === 'string' && message !== '' ? decodeGrpcMessage(message) : 'no message';
  return new GrpcError(
    Number.isInteger(code) ? code : GRPC_STATUS.UNKNOWN,
    `${where}: grpc-status ${raw}: ${text}`,
  );
}
