// The admin port: /ready for health checks from anywhere; for callers on this host only (as Envoy's
// admin port), /config_dump (the snapshot held), /stats (Prometheus text), and /routes, /clusters,
// /endpoints and /explain (the views in admin/, read by `alder proxy-config` and `alder explain`;
// loaded on the first call that needs one). Read-only.

import type { IncomingMessage, Server } from 'node:http';
import { ErrorCode, isAlderError } from '../config/core.ts';
import type { ExplainInput } from './admin/index.ts';
import type { Runtime, Stats } from './runtime/index.ts';

// node:http is taken as the CommonJS object: an ES import of it builds a namespace of every export,
// which runs its lazy WebSocket, CloseEvent and MessageEvent getters and so loads undici (3 MiB of RSS
// in a proxy that never uses them).
const { createServer } = process.getBuiltinModule('node:http');

/** A change the proxy refused, when (ISO 8601) and why; the snapshot served is the one before it. */
export interface Refusal {
  at: string;
  reason: string;
}

export interface AdminSources {
  current(): Runtime | undefined;
  /** The last change refused, unless a later one was accepted. */
  lastRefused(): Refusal | undefined;
  stats: Stats;
}

const ENDPOINTS = '/ready /config_dump /stats /routes /clusters /endpoints /explain /explain/authz';
/**
 * Every path but /ready shows the mesh's config or how to reach its workloads, so only callers on
 * this host get an answer, wherever the port is bound.
 */
const OPEN_TO_ALL = '/ready';
const LOCAL_CALLERS = 'loopback addresses (127.0.0.0/8, ::1)';
/** The paths answered with JSON about the snapshot in force. */
const SNAPSHOT_VIEWS = new Set([
  '/config_dump',
  '/routes',
  '/clusters',
  '/endpoints',
  '/explain',
  '/explain/authz',
]);

type Views = typeof import('./admin/index.ts');
type Json = (status: number, value: unknown) => void;

/**
 * The admin views, imported on the first call for one: a proxy nobody inspects carries none of
 * their code (about 40 KB of source, with their bytecode and the compile cache's copies).
 */
let views: Promise<Views> | undefined;

export function createAdminServer(sources: AdminSources): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const runtime = sources.current();
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const json: Json = (status, value) =>
      send(status, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
    if (path !== OPEN_TO_ALL && !isLoopback(req)) {
      return json(403, {
        code: ErrorCode.Forbidden,
        message: `${path} answers callers on this host only, from ${LOCAL_CALLERS}; ${req.socket.remoteAddress} may call ${OPEN_TO_ALL} only`,
      });
    }
    const refused = sources.lastRefused();
    switch (path) {
      case '/ready':
        return runtime === undefined
          ? send(503, 'text/plain', 'not ready: no snapshot yet\n')
          : send(200, 'text/plain', readyText(runtime.snapshot.version, refused));
      case '/stats':
      case '/stats/prometheus':
        return send(200, 'text/plain; version=0.0.4', sources.stats.render());
    }
    if (!SNAPSHOT_VIEWS.has(path)) return send(404, 'text/plain', `admin endpoints: ${ENDPOINTS}\n`);
    if (runtime === undefined) return json(503, { error: 'no snapshot yet' });
    if (path === '/config_dump') {
      // The snapshot's own fields, so a dump decodes as a snapshot; lastRefused only when stale.
      return json(
        200,
        refused === undefined ? runtime.snapshot : { ...runtime.snapshot, lastRefused: refused },
      );
    }
    views ??= import('./admin/index.ts');
    views.then(
      (v) => answerView(v, path, runtime, url.searchParams, json),
      (err: Error) => json(500, { code: ErrorCode.Internal, message: `admin views: ${err.message}` }),
    );
  });
}

/** /routes, /clusters, /endpoints or /explain, from the runtime in force when the call came. */
function answerView(v: Views, path: string, runtime: Runtime, q: URLSearchParams, json: Json): void {
  const version = runtime.snapshot.version;
  const clusters = [...runtime.clusters.values()];
  if (path === '/routes') json(200, { version, routeTables: v.routesView(runtime.snapshot) });
  else if (path === '/clusters') json(200, { version, clusters: clusters.map(v.clusterView) });
  else if (path === '/endpoints') json(200, { version, endpoints: clusters.flatMap(v.endpointViews) });
  else if (path === '/explain/authz') explainAuthz(v, runtime, q, json);
  else explain(v, runtime, q, json);
}

/**
 * `/explain?method=GET&authority=reviews:9080&path=/x&scheme=http&header=name:value&table=outbound`:
 * the explanation as JSON; 400 with `{code, message, hint}` for a request it cannot explain.
 */
function explain(v: Views, runtime: Runtime, q: URLSearchParams, json: Json): void {
  const authority = q.get('authority');
  const invalid = (message: string, hint: string) =>
    json(400, { code: 'ALDER_REQUEST_INVALID', message, hint });
  if (authority === null || authority === '') {
    invalid('explain needs authority=HOST:PORT', 'e.g. /explain?authority=reviews:9080&path=/');
    return;
  }
  const headers: [string, string][] = [];
  for (const h of q.getAll('header')) {
    const colon = h.indexOf(':');
    if (colon <= 0) {
      invalid(`header ${JSON.stringify(h)}: want name:value`, 'e.g. header=end-user:jason');
      return;
    }
    headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  const input: ExplainInput = {
    method: q.get('method') ?? 'GET',
    authority,
    path: q.get('path') ?? '/',
    scheme: q.get('scheme') ?? 'http',
    headers,
    routeTable: q.get('table') ?? undefined,
  };
  try {
    json(200, v.explainRequest(runtime, input));
  } catch (err) {
    if (isAlderError(err)) json(400, { code: err.code, message: err.message, hint: err.hint });
    else json(500, { code: 'ALDER_INTERNAL', message: `explain failed: ${(err as Error).message}` });
  }
}

/**
 * `/explain/authz?from=PRINCIPAL&source_ip=IP&method=GET&authority=HOST:PORT&path=/x&header=name:value&jwt_claims={…}`:
 * whether this workload's policies let that request in, rule by rule; `from` absent: plaintext;
 * `jwt_claims` a JSON object, the claims of a token taken as verified.
 */
function explainAuthz(v: Views, runtime: Runtime, q: URLSearchParams, json: Json): void {
  const headers: [string, string][] = [];
  for (const h of q.getAll('header')) {
    const colon = h.indexOf(':');
    if (colon <= 0) {
      json(400, { code: 'ALDER_REQUEST_INVALID', message: `header ${JSON.stringify(h)}: want name:value` });
      return;
    }
    headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  const claimsText = q.get('jwt_claims');
  const jwtClaims = claimsText === null ? undefined : jsonObject(claimsText);
  if (jwtClaims === null) {
    json(400, { code: 'ALDER_REQUEST_INVALID', message: 'jwt_claims: want a JSON object of claims' });
    return;
  }
  try {
    json(
      200,
      v.explainInbound(runtime, {
        jwtClaims,
        principal: q.get('from') ?? undefined,
        sourceIp: q.get('source_ip') ?? undefined,
        method: q.get('method') ?? 'GET',
        authority: q.get('authority') ?? '',
        path: q.get('path') ?? '/',
        headers,
      }),
    );
  } catch (err) {
    if (isAlderError(err)) json(400, { code: err.code, message: err.message, hint: err.hint });
    else json(500, { code: 'ALDER_INTERNAL', message: `explain failed: ${(err as Error).message}` });
  }
}

/** `text` as a JSON object, or null when it is not one. */
function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `ready VERSION`, and when the last change was refused, that this version is older and why. */
function readyText(version: string, refused: Refusal | undefined): string {
  if (refused === undefined) return `ready ${version}\n`;
  const why = refused.reason.split('\n', 1)[0];
  return `ready ${version}\nserving an older snapshot: the change of ${refused.at} was refused: ${why}\n`;
}

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}
