// The schema of listeners and route tables: HTTP routes (matches, actions, policies) and TCP routes.

import { GRPC_STATUS_NAMES, RETRY_CONDITIONS, schema as s } from '../config/core.ts';
import { EGRESS_SCOPE_LIMITS } from './routes.ts';
import {
  common,
  exactlyOne,
  labels,
  name,
  percent,
  port,
  positiveMs,
  protocol,
  servicePort,
  strings,
  tagged,
  traffic,
  UINT32_MAX,
} from './schema-common.ts';

// ── listeners ───────────────────────────────────────────────────────────────────────────────────

export const listener = s.obj(
  {
    kind: s.str({ enum: ['inbound', 'outbound-proxy', 'outbound-port', 'tunnel'] as const }),
    ...common,
    protocol,
    traffic,
    mtlsMode: s.str({ enum: ['STRICT', 'PERMISSIVE', 'DISABLE'] as const }),
    app: s.obj({ address: s.str({ minLength: 1 }), port }, { required: ['address', 'port'] }),
    services: strings,
    routeTable: s.str(),
  },
  {
    required: ['kind', 'name', 'address', 'port'],
    refine: (l, c) => {
      const need: Record<string, readonly string[]> = {
        inbound: ['protocol', 'traffic', 'mtlsMode', 'app', 'services'],
        'outbound-proxy': ['routeTable'],
        'outbound-port': ['traffic', 'routeTable'],
      };
      for (const field of need[l.kind] ?? []) {
        if ((l as Record<string, unknown>)[field] === undefined)
          c.error(`is required on an ${l.kind} listener`, field);
      }
    },
  },
);

// ── routes ──────────────────────────────────────────────────────────────────────────────────────

export const stringMatch = s.obj(
  { exact: s.str(), prefix: s.str(), regex: s.str({ minLength: 1, maxLength: 1024 }) },
  { name: 'a string match', refine: exactlyOne(['exact', 'prefix', 'regex']) },
);

export const lowerCaseName = s.str({
  minLength: 1,
  refine: (v, c) => {
    if (v !== v.toLowerCase()) c.error(`must be lower-case, got ${JSON.stringify(v)}`);
  },
});

export const headerPairs = s.arr(
  s.arr(s.str(), {
    refine: (pair, c) => {
      if (pair.length !== 2) c.error(`must be a [name, value] pair, got ${pair.length} items`);
      else if (pair[0] === '' || pair[0] !== pair[0]?.toLowerCase())
        c.error(`name must be lower-case and not empty, got ${JSON.stringify(pair[0])}`, 0);
    },
  }),
);
export const headerEdits = s.obj({ set: headerPairs, add: headerPairs, remove: s.arr(lowerCaseName) });
export const headerOperations = s.obj(
  { request: headerEdits, response: headerEdits },
  { name: 'header operations' },
);

export const routeMatch = s.obj(
  {
    name: s.str(),
    uri: stringMatch,
    scheme: stringMatch,
    method: stringMatch,
    authority: stringMatch,
    headers: s.arr(
      s.obj(
        { name: lowerCaseName, value: stringMatch, isInverted: s.bool() },
        { required: ['name', 'isInverted'] },
      ),
    ),
    queryParams: s.arr(s.obj({ name, value: stringMatch }, { required: ['name'] })),
    port: servicePort,
    sourceLabels: labels,
    sourceNamespace: s.str(),
    ignoreUriCase: s.bool(),
  },
  { name: 'a route match' },
);

export const weightedDestination = s.obj(
  {
    cluster: name,
    weight: s.int({ min: 0, max: UINT32_MAX }),
    host: name,
    subset: name,
    headers: headerOperations,
  },
  { required: ['cluster', 'weight', 'host'] },
);

/** Weights are relative; at least one must be positive or the route could pick nothing. */
export const destinations = s.arr(weightedDestination, {
  minItems: 1,
  refine: (ds, c) => {
    if (ds.every((d) => d.weight === 0)) c.error('must give at least one destination a positive weight');
  },
});

export const routeAction = tagged(
  'kind',
  {
    forward: s.obj(
      {
        kind: s.str(),
        destinations,
        rewrite: s.obj({
          uri: s.str(),
          uriRegex: s.obj({ match: name, rewrite: s.str() }, { required: ['match', 'rewrite'] }),
          authority: name,
        }),
      },
      { required: ['kind', 'destinations'] },
    ),
    redirect: s.obj(
      {
        kind: s.str(),
        uri: s.str(),
        prefixRewrite: s.str(),
        authority: s.str(),
        port: servicePort,
        derivePort: s.str({ enum: ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const }),
        scheme: s.str({ enum: ['http', 'https'] as const }),
        status: s.int({ min: 300, max: 399 }),
      },
      { required: ['kind', 'status'] },
    ),
    direct: s.obj(
      {
        kind: s.str(),
        status: s.int({ min: 200, max: 600 }),
        bodyBase64: s.str({
          pattern: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
          patternHint: 'base64',
        }),
      },
      { required: ['kind', 'status'] },
    ),
  },
  'a route action (forward, redirect, direct)',
);

export const retryPolicy = s.obj(
  {
    attempts: s.int({ min: 1, max: 2147483647 }),
    perTryTimeoutMs: positiveMs,
    retryOn: s.arr(s.str({ enum: RETRY_CONDITIONS })),
    retriableStatusCodes: s.arr(s.int({ min: 100, max: 599 })),
    retryRemoteLocalities: s.bool(),
    backoff: s.obj(
      { baseMs: positiveMs, maxMs: positiveMs },
      {
        required: ['baseMs', 'maxMs'],
        refine: (b, c) => {
          if (b.maxMs < b.baseMs) c.error(`must be at least baseMs (${b.baseMs}), got ${b.maxMs}`, 'maxMs');
        },
      },
    ),
  },
  { required: ['attempts', 'retryOn', 'retriableStatusCodes', 'retryRemoteLocalities', 'backoff'] },
);

export const faultPolicy = s.obj(
  {
    delay: s.obj({ fixedMs: positiveMs, percent }, { required: ['fixedMs', 'percent'] }),
    abort: s.obj(
      { httpStatus: s.int({ min: 200, max: 600 }), grpcStatus: s.str({ enum: GRPC_STATUS_NAMES }), percent },
      { required: ['percent'], refine: exactlyOne(['httpStatus', 'grpcStatus']) },
    ),
  },
  {
    refine: (f, c) => {
      if (f.delay === undefined && f.abort === undefined) c.error('must set delay, abort or both');
    },
  },
);

export const corsPolicy = s.obj(
  {
    allowOrigins: s.arr(stringMatch),
    allowMethods: strings,
    allowHeaders: strings,
    exposeHeaders: strings,
    maxAgeSeconds: s.int({ min: 0 }),
    allowCredentials: s.bool(),
    unmatchedPreflights: s.str({ enum: ['FORWARD', 'IGNORE'] as const }),
  },
  { required: ['allowOrigins', 'allowMethods', 'allowHeaders', 'exposeHeaders', 'unmatchedPreflights'] },
);

export const routeOrigin = s.obj(
  { kind: s.str({ enum: ['VirtualService', 'default'] as const }), virtualServices: strings, paths: strings },
  {
    required: ['kind', 'virtualServices', 'paths'],
    refine: (o, c) => {
      if (o.kind === 'default' && (o.virtualServices.length > 0 || o.paths.length > 0)) {
        c.error('a default route names no VirtualService');
      } else if (
        o.kind === 'VirtualService' &&
        (o.virtualServices.length === 0 || o.paths.length !== o.virtualServices.length)
      ) {
        c.error('names each VirtualService on the way with one path');
      }
    },
  },
);

export const route = s.obj(
  {
    name,
    origin: routeOrigin,
    matches: s.arr(routeMatch),
    action: routeAction,
    headers: headerOperations,
    timeoutMs: positiveMs,
    retry: retryPolicy,
    fault: faultPolicy,
    mirrors: s.arr(
      s.obj({ cluster: name, host: name, percent }, { required: ['cluster', 'host', 'percent'] }),
    ),
    cors: corsPolicy,
  },
  { required: ['name', 'origin', 'matches', 'action'] },
);

export const tcpRoute = s.obj(
  {
    name,
    origin: routeOrigin,
    matches: s.arr(
      s.obj({
        port: servicePort,
        sniHosts: s.arr(name, { minItems: 1 }),
        destinationSubnets: s.arr(name, { minItems: 1 }),
        sourceLabels: labels,
        sourceNamespace: s.str(),
      }),
    ),
    destinations,
  },
  { required: ['name', 'origin', 'matches', 'destinations'] },
);

export const egressScope = s.obj(
  {
    sidecar: name,
    hosts: s.arr(name, { maxItems: EGRESS_SCOPE_LIMITS.hosts }),
    moreHosts: s.int({ min: 0 }),
    hiddenDomains: s.arr(lowerCaseName, { maxItems: EGRESS_SCOPE_LIMITS.hiddenDomains }),
  },
  { required: ['sidecar', 'hosts', 'moreHosts'] },
);

export const routeTable = s.obj(
  {
    name,
    virtualHosts: s.arr(
      s.obj(
        { name, domains: strings, traffic, routes: s.arr(route), tcpRoutes: s.arr(tcpRoute) },
        { required: ['name', 'domains', 'traffic', 'routes', 'tcpRoutes'] },
      ),
    ),
    egressScope,
  },
  { required: ['name', 'virtualHosts'] },
);
