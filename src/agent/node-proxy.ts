// One proxy process for every workload of its host (Istio ambient's ztunnel model): `alder run` on
// this host hands its workload over the node's local socket, and the node joins it, serves it with
// its own identity, certificate, listeners and config scope, drains it and lets it go. Workloads
// share the process (the runtime's tens of MiB are paid once) and one stream to the control plane,
// on which each says its own hello proved with its own key (node-stream.ts); each has its own
// session there, its own listeners on its own address, and its own HTTP_PROXY secret.

import { chmodSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/core.ts';
import type { Logger } from '../telemetry/index.ts';
import type { RunRegistration } from '../wire/index.ts';
import { forwardProxyUrl, proxySecret, upstreamsOf } from './app-env.ts';
import {
  ensureSocketDir,
  NodeClient,
  type NodeJoin,
  type NodeMessage,
  readLines,
  send,
} from './node-socket.ts';
import { NodeStream } from './node-stream.ts';
import { isLoopback } from './run-addresses.ts';
import { Sidecar } from './sidecar.ts';
import type { ControlPlaneAddress } from './workload-certificate.ts';

const OUTBOUND_PORT = 15001;
/** Most workloads one node proxy serves: each takes listeners and descriptors (at most MAX_STREAM_WORKLOADS). */
export const MAX_NODE_WORKLOADS = 250;
/** Longest a join may take (the first config included) before the node gives up on it. */
const JOIN_TIMEOUT_MS = 60_000;

export interface NodeProxyOptions {
  controlPlane: ControlPlaneAddress;
  /** Where each workload's key, certificate and last good config are kept (a folder per workload). */
  stateDir: string;
  socketPath: string;
  log: Logger;
}

interface NodeWorkload {
  sidecar: Sidecar;
  run: RunRegistration;
  address: string;
  joinedAt: string;
  isDraining: boolean;
  /** Its HTTP_PROXY secret, handed to its app only. */
  secret: { user: string; password: string };
}

export class NodeProxy {
  readonly #o: NodeProxyOptions;
  /** Workload address → the workload: one workload per address. */
  readonly #workloads = new Map<string, NodeWorkload>();
  /** Addresses whose join is under way. */
  readonly #joining = new Set<string>();
  readonly #server: Server;
  readonly #connections = new Set<Socket>();
  /** The one stream to the control plane, for every workload. */
  readonly #stream: NodeStream;
  #isStopping = false;

  private constructor(o: NodeProxyOptions, server: Server) {
    this.#o = o;
    this.#server = server;
    this.#stream = new NodeStream({ host: o.controlPlane.host, port: o.controlPlane.port });
  }

  /** Listens on the local socket; refuses when another node proxy already listens there. */
  static async start(o: NodeProxyOptions): Promise<NodeProxy> {
    ensureSocketDir(o.socketPath);
    const other = await NodeClient.connect(o.socketPath, 1000);
    if (other !== undefined) {
      other.close();
      throw new AlderError(ErrorCode.Usage, `a node proxy already listens at ${o.socketPath}`, {
        hint: 'one node proxy serves a host; give another --socket for a second one',
      });
    }
    rmSync(o.socketPath, { force: true }); // a socket file left by a node proxy that died
    const server = createServer();
    const node = new NodeProxy(o, server);
    server.on('connection', (socket) => node.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.socketPath, () => resolve());
    });
    chmodSync(o.socketPath, 0o600);
    return node;
  }

  get size(): number {
    return this.#workloads.size;
  }

  /** What the node serves, for its admin port. */
  workloads(): Record<string, unknown>[] {
    return [...this.#workloads.values()].map((w) => ({
      workload: `${w.sidecar.workload.namespace}/${w.sidecar.workload.name}`,
      service: `${w.run.namespace}/${w.run.service}`,
      address: w.address,
      identity: w.sidecar.certificate?.spiffeId(),
      version: w.sidecar.proxy.runtime?.snapshot.version,
      listeners: w.sidecar.proxy.listenerAddresses(),
      joinedAt: w.joinedAt,
      draining: w.isDraining,
    }));
  }

  /**
   * The node's admin API: /ready, /workloads (JSON), and each workload's own admin API under
   * /workloads/NAMESPACE/NAME/ (its /config_dump, /stats ...).
   */
  serveAdmin(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname === '/ready') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('LIVE\n');
      return;
    }
    if (url.pathname === '/workloads') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(this.workloads(), null, 2)}\n`);
      return;
    }
    const m = /^\/workloads\/([^/]+)\/([^/]+)(\/.*)$/.exec(url.pathname);
    const w =
      m === null
        ? undefined
        : [...this.#workloads.values()].find(
            (x) => x.sidecar.workload.namespace === m[1] && x.sidecar.workload.name === m[2],
          );
    if (m === null || w === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such path: try /workloads\n');
      return;
    }
    req.url = `${m[3]}${url.search}`;
    w.sidecar.proxy.serveAdmin(req, res);
  }

  /** Stops every workload (each says goodbye: out of rotation at once) and the local socket. */
  async stop(): Promise<void> {
    this.#isStopping = true;
    this.#server.close();
    for (const socket of this.#connections) socket.destroy();
    await Promise.all([...this.#workloads.values()].map((w) => this.#remove(w)));
    rmSync(this.#o.socketPath, { force: true });
  }

  #accept(socket: Socket): void {
    if (this.#isStopping) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    let mine: NodeWorkload | undefined;
    let isJoining = false;
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.#connections.delete(socket);
      // alder run went away without leaving (killed): its workload goes with it.
      if (mine !== undefined && this.#workloads.get(mine.address) === mine) void this.#remove(mine);
    });
    const reply = (m: NodeMessage) => send(socket, m);
    const fail = (err: unknown) => {
      const e = err instanceof AlderError ? err : undefined;
      reply({
        error: {
          code: e?.code ?? ErrorCode.Internal,
          message: (err as Error).message,
          ...(e?.hint === undefined ? {} : { hint: e.hint }),
        },
      });
    };
    readLines(socket, (m) => {
      if ('join' in m && mine === undefined && !isJoining) {
        isJoining = true;
        this.#join(m.join as NodeJoin, () => socket.destroyed).then(
          (w) => {
            isJoining = false;
            mine = w;
            if (socket.destroyed) {
              void this.#remove(w);
              return;
            }
            reply({
              ready: {
                workload: w.sidecar.workload,
                spiffeId: w.sidecar.certificate?.spiffeId() ?? '',
                httpProxy: httpProxyOf(w),
                upstreams: upstreamsOf(w.sidecar.proxy.runtime?.snapshot),
              },
            });
          },
          (err: unknown) => {
            isJoining = false;
            fail(err);
          },
        );
      } else if ('drain' in m && mine !== undefined) {
        const graceMs = Number((m.drain as { graceMs?: unknown }).graceMs);
        void this.#drain(
          mine,
          Number.isFinite(graceMs) && graceMs >= 0 ? Math.min(graceMs, 600_000) : 10_000,
        ).then((drained) => reply({ drained }));
      } else if ('leave' in m && mine !== undefined) {
        const w = mine;
        mine = undefined;
        void this.#remove(w).then(() => {
          reply({ left: {} });
          socket.end();
        });
      } else {
        fail(new AlderError(ErrorCode.RequestInvalid, 'the node proxy takes join, then drain and leave'));
        socket.end();
      }
    });
  }

  async #join(req: NodeJoin, isGone: () => boolean): Promise<NodeWorkload> {
    const address = String(req.address);
    if (isIP(address) === 0)
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `address must be an IP address, got ${JSON.stringify(address)}`,
      );
    const taken = this.#workloads.get(address);
    if (taken !== undefined || this.#joining.has(address)) {
      const who =
        taken === undefined ? 'another workload joining now' : `${taken.run.namespace}/${taken.run.service}`;
      throw new AlderError(
        ErrorCode.StoreAlreadyExists,
        `address ${address} is taken on this node by ${who}`,
        {
          hint: 'give each workload its own --address',
        },
      );
    }
    if (this.#workloads.size + this.#joining.size >= MAX_NODE_WORKLOADS) {
      throw new AlderError(
        ErrorCode.TokenLimit,
        `this node proxy serves its maximum of ${MAX_NODE_WORKLOADS} workloads`,
      );
    }
    this.#joining.add(address);
    try {
      const run = req.run;
      const secret = proxySecret();
      const log = this.#o.log.with({ service: `${run.namespace}/${run.service}`, address });
      const sidecar = await Sidecar.start({
        controlPlane: this.#o.controlPlane,
        as: {
          run,
          address,
          ...(req.labels === undefined ? {} : { labels: req.labels }),
          ...(req.appAddress === undefined ? {} : { appAddress: req.appAddress }),
        },
        token: req.token,
        stateDir: join(this.#o.stateDir, `${run.namespace}-${run.service}-${address.replaceAll(':', '-')}`),
        outboundProxy: { address: isLoopback(address) ? address : '127.0.0.1', port: OUTBOUND_PORT },
        outboundCredential: secret.authorization,
        sharedStream: this.#stream,
        log,
      });
      const w: NodeWorkload = {
        sidecar,
        run,
        address,
        joinedAt: new Date().toISOString(),
        isDraining: false,
        secret,
      };
      let timer: NodeJS.Timeout | undefined;
      const ready = await Promise.race([
        sidecar.serving.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), JOIN_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!ready || isGone()) {
        await sidecar.stop(0);
        throw new AlderError(
          ErrorCode.ServerUnreachable,
          isGone()
            ? 'alder run left while its workload joined'
            : `no config from the control plane within ${JOIN_TIMEOUT_MS / 1000}s`,
        );
      }
      this.#workloads.set(address, w);
      log.info('workload joined the node', {
        workload: `${sidecar.workload.namespace}/${sidecar.workload.name}`,
        identity: sidecar.certificate?.spiffeId(),
        workloads: this.#workloads.size,
      });
      return w;
    } finally {
      this.#joining.delete(address);
    }
  }

  async #drain(w: NodeWorkload, graceMs: number) {
    w.isDraining = true;
    const { drained, inboundMs } = await w.sidecar.drain(graceMs);
    return {
      synced: drained?.synced ?? 0,
      pending: drained?.pending ?? ['(no answer from the control plane)'],
      inboundMs,
    };
  }

  async #remove(w: NodeWorkload): Promise<void> {
    if (this.#workloads.get(w.address) !== w) return;
    this.#workloads.delete(w.address);
    await w.sidecar.stop(1000);
    w.sidecar.log.info('workload left the node', { workloads: this.#workloads.size });
  }
}

function httpProxyOf(w: NodeWorkload): string {
  return forwardProxyUrl({
    address: isLoopback(w.address) ? w.address : '127.0.0.1',
    port: OUTBOUND_PORT,
    user: w.secret.user,
    password: w.secret.password,
  });
}
