// The control plane's HTTP API: Kubernetes-style resource paths, Alder's batch endpoints, health
// and readiness. Routes a request, runs its handler, and turns any error into a Status answer.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AlderError, ErrorCode } from '../../config/index.ts';
import type { CertificateAuthority } from '../../identity/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import { VERSION } from '../../version.ts';
import type { ApiTokens, Principal } from '../auth/index.ts';
import type { JoinTokens } from '../identity/index.ts';
import type { Store } from '../store/index.ts';
import { handleApply, handleDelete } from './apply.ts';
import { CA_PATH, handleCa } from './ca.ts';
import { send, sendError } from './http-io.ts';
import { parseResourcePath } from './paths.ts';
import { guardRequest, HostPolicy, OPEN_PATHS } from './request-guard.ts';
import { handleResource, type ResourceContext } from './resources.ts';
import { handleTokens, TOKENS_PATH } from './tokens.ts';

export interface ApiServerOptions {
  store: Store;
  log: Logger;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** After a root rotation through the API (push the bundle, renew the serving certificate). */
  onRootRotated?: () => Promise<void>;
  /** Proxy status and push metrics, when the control plane distributes config. */
  distributor?: { status(): unknown[]; metricsText(): string; readonly revision: number };
  /** Join tokens, served on /alder/v1/tokens when given. */
  tokens?: JoinTokens;
  /** The mesh CA, whose root fingerprint tokens carry. */
  ca?: CertificateAuthority;
  /** Bearer tokens every path but the health ones needs. */
  apiTokens: ApiTokens;
  /** The Host headers answered (421 for others); the caller adds its listeners once bound. */
  hosts?: HostPolicy;
  /** On TLS (the mesh port): the principal of the verified client certificate, if any. */
  authenticateCertificate?: (socket: TLSSocket) => Principal | undefined;
}

export interface ApiServer {
  server: Server;
  /** The request handler, for the mesh port to serve the API over TLS too. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The Host headers answered: add each listener once it is bound. */
  hosts: HostPolicy;
  /** Ends open watch streams; the caller then closes the server. */
  endWatches(): void;
  isReady(): boolean;
  setReady(ready: boolean): void;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { store, log, maxBodyBytes } = options;
  const ctx: ResourceContext = { store, maxBodyBytes, watches: new Set() };
  const hosts = options.hosts ?? new HostPolicy();
  const guard = {
    tokens: options.apiTokens,
    hosts,
    ...(options.authenticateCertificate === undefined
      ? {}
      : { authenticateCertificate: options.authenticateCertificate }),
  };
  let ready = false;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    const path = url.pathname;
    if (!OPEN_PATHS.has(path)) guardRequest(req, guard);
    if (path === '/healthz' || path === '/livez') return send(req, res, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (!ready) return send(req, res, 503, { status: 'not ready' });
      const problem = store.writeProblem();
      return problem === undefined
        ? send(req, res, 200, { status: 'ready', store: store.backend })
        : send(req, res, 503, {
            status: 'not ready',
            store: store.backend,
            code: problem.code,
            reason: problem.message,
            hint: problem.hint,
          });
    }
    if (path === '/version') return send(req, res, 200, { version: VERSION, store: store.backend });
    if (path === '/alder/v1/proxy-status' || path === '/metrics') {
      const d = options.distributor;
      if (d === undefined) {
        throw new AlderError(ErrorCode.NotFound, `${path}: this control plane serves no proxies`, {
          hint: 'start it with a mesh port (alder control-plane --mesh-listen HOST:PORT)',
        });
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(d.metricsText());
        return;
      }
      return send(req, res, 200, { revision: String(d.revision), items: d.status() });
    }
    if (path === '/alder/v1/apply' || path === '/alder/v1/delete') {
      if (req.method !== 'POST') throw new AlderError(ErrorCode.MethodNotAllowed, `use POST on ${path}`);
      return path === '/alder/v1/apply'
        ? handleApply(req, res, store, maxBodyBytes)
        : handleDelete(req, res, store, maxBodyBytes);
    }
    if (path === CA_PATH || path.startsWith(`${CA_PATH}/`)) {
      return handleCa(req, res, path, {
        ca: options.ca,
        ...(options.onRootRotated === undefined ? {} : { onRootRotated: options.onRootRotated }),
      });
    }
    if (path === TOKENS_PATH || path.startsWith(`${TOKENS_PATH}/`)) {
      return handleTokens(req, res, path, { tokens: options.tokens, ca: options.ca });
    }
    const target = parseResourcePath(path);
    if (target === undefined) {
      throw new AlderError(ErrorCode.NotFound, `no API at ${path}`, {
        hint: 'resource paths look like /apis/networking.istio.io/v1/namespaces/default/virtualservices',
      });
    }
    return handleResource(req, res, url, target, ctx);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    route(req, res)
      .catch((err: unknown) => sendError(req, res, err, log))
      .finally(() => {
        log.debug('request', {
          method: req.method,
          url: req.url,
          status: res.statusCode,
          ms: +(performance.now() - started).toFixed(2),
        });
      });
  };
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 15_000 }, handle);
  // Watches are long-lived: no idle timeout on their sockets.
  server.keepAliveTimeout = 5_000;
  server.timeout = 0;

  return {
    server,
    handle,
    hosts,
    endWatches: () => {
      for (const res of ctx.watches) {
        res.end();
        // A client that is not reading would keep the server from closing: cut it off.
        if (res.writableLength > 0) res.destroy();
      }
      ctx.watches.clear();
    },
    isReady: () => ready,
    setReady: (value) => {
      ready = value;
    },
  };
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://control-plane');
  } catch {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `cannot read the request target ${JSON.stringify(req.url)}`,
    );
  }
}
