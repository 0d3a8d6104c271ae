// Encodes snapshots for the stream and decodes them at the proxy's edge: a snapshot that does not
// check out is refused whole, with every problem named by its path, and the proxy keeps its last
// good one. Checks every field's type, range and enum, then that every name points somewhere.

import { AlderError, ErrorCode, schema as s } from '../config/index.ts';
import { type Snapshot, WIRE_VERSION } from './snapshot.ts';

type Checker = InstanceType<typeof s.Checker>;

const UINT32_MAX = 4294967295;

const protocol = s.str({
  enum: [
    'HTTP',
    'HTTP2',
    'GRPC',
    'GRPC-Web',
    'HTTPS',
    'TLS',
    'TCP',
    'Mongo',
    'Redis',
    'MySQL',
    'UDP',
  ] as const,
});
const traffic = s.str({ enum: ['http', 'tcp', 'detect'] as const });
const port = s.int({ min: 0, max: 65535 });
const servicePort = s.int({ min: 1, max: 65535 });
const name = s.str({ minLength: 1 });
const labels = s.record(s.str());
const strings = s.arr(s.str());
const percent = s.num({ min: 0, max: 100 });
const positiveMs = s.int({ min: 1 });
const uint32 = s.int({ min: 0, max: UINT32_MAX });
const common = { name, address: s.str({ minLength: 1 }), port };

/**
 * One of several object shapes, chosen by the value of its `kind` field: an unknown kind is an error
 * naming the known ones, as the wire's tagged unions are read.
 */
function tagged(field: string, shapes: Record<string, s.Schema<unknown>>, what: string): s.Schema<unknown> {
  const kinds = Object.keys(shapes);
  return {
    expected: what,
    check(value, c) {
      if (!s.isPlainObject(value)) return s.typeError(c, what, value);
      const tag = value[field];
      const shape = typeof tag === 'string' ? shapes[tag] : undefined;
      if (shape === undefined) {
        c.error(`must be one of ${kinds.join(', ')}, got ${s.describe(tag)}`, field);
        return false;
      }
      return shape.check(value, c);
    },
  };
}

/** Exactly one of `keys` set. */
function exactlyOne<T extends object>(keys: readonly (keyof T & string)[]): s.Refine<T> {
  return (v, c) => {
    const set = keys.filter((k) => v[k] !== undefined);
    if (set.length !== 1) c.error(`must set exactly one of ${keys.join(', ')}, got ${set.length}`);
  };
}

// ── listeners ───────────────────────────────────────────────────────────────────────────────────

const listener = s.obj(
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

const stringMatch = s.obj(
  { exact: s.str(), prefix: s.str(), regex: s.str({ minLength: 1, maxLength: 1024 }) },
  { name: 'a string match', refine: exactlyOne(['exact', 'prefix', 'regex']) },
);

const lowerCaseName = s.str({
  minLength: 1,
  refine: (v, c) => {
    if (v !== v.toLowerCase()) c.error(`must be lower-case, got ${JSON.stringify(v)}`);
  },
});

const headerPairs = s.arr(
  s.arr(s.str(), {
    refine: (pair, c) => {
      if (pair.length !== 2) c.error(`must be a [name, value] pair, got ${pair.length} items`);
      else if (pair[0] === '' || pair[0] !== pair[0]?.toLowerCase())
        c.error(`name must be lower-case and not empty, got ${JSON.stringify(pair[0])}`, 0);
    },
  }),
);
const headerEdits = s.obj({ set: headerPairs, add: headerPairs, remove: s.arr(lowerCaseName) });
const headerOperations = s.obj(
  { request: headerEdits, response: headerEdits },
  { name: 'header operations' },
);

const routeMatch = s.obj(
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

const weightedDestination = s.obj(
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
const destinations = s.arr(weightedDestination, {
  minItems: 1,
  refine: (ds, c) => {
    if (ds.every((d) => d.weight === 0)) c.error('must give at least one destination a positive weight');
  },
});

const routeAction = tagged(
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

/** Envoy's retry conditions (x-envoy-retry-on and x-envoy-retry-grpc-on). */
const RETRY_ON = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;

const retryPolicy = s.obj(
  {
    attempts: s.int({ min: 1, max: 2147483647 }),
    perTryTimeoutMs: positiveMs,
    retryOn: s.arr(s.str({ enum: RETRY_ON })),
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

const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const faultPolicy = s.obj(
  {
    delay: s.obj({ fixedMs: positiveMs, percent }, { required: ['fixedMs', 'percent'] }),
    abort: s.obj(
      { httpStatus: s.int({ min: 200, max: 600 }), grpcStatus: s.str({ enum: GRPC_STATUS }), percent },
      { required: ['percent'], refine: exactlyOne(['httpStatus', 'grpcStatus']) },
    ),
  },
  {
    refine: (f, c) => {
      if (f.delay === undefined && f.abort === undefined) c.error('must set delay, abort or both');
    },
  },
);

const corsPolicy = s.obj(
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

const routeOrigin = s.obj(
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

const route = s.obj(
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

const tcpRoute = s.obj(
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

const routeTable = s.obj(
  {
    name,
    virtualHosts: s.arr(
      s.obj(
        { name, domains: strings, traffic, routes: s.arr(route), tcpRoutes: s.arr(tcpRoute) },
        { required: ['name', 'domains', 'traffic', 'routes', 'tcpRoutes'] },
      ),
    ),
  },
  { required: ['name', 'virtualHosts'] },
);

// ── clusters ────────────────────────────────────────────────────────────────────────────────────

const localityPolicy = s.obj({
  distribute: s.arr(s.obj({ from: name, to: s.record(uint32) }, { required: ['from', 'to'] })),
  failover: s.arr(s.obj({ from: name, to: name }, { required: ['from', 'to'] })),
  failoverPriority: s.arr(name),
});

const hashKey = s.obj(
  {
    header: lowerCaseName,
    cookie: s.obj({ name, path: s.str(), ttlMs: s.int({ min: 0 }) }, { required: ['name'] }),
    sourceIp: s.bool(),
    queryParameter: name,
  },
  {
    refine: (h, c) => {
      exactlyOne<typeof h>(['header', 'cookie', 'sourceIp', 'queryParameter'])(h, c);
      if (h.sourceIp === false) c.error('must be true when set', 'sourceIp');
    },
  },
);

const simpleLb = s.obj(
  { kind: s.str(), warmupMs: positiveMs, locality: localityPolicy },
  { required: ['kind'] },
);
const loadBalancer = tagged(
  'kind',
  {
    ROUND_ROBIN: simpleLb,
    LEAST_REQUEST: simpleLb,
    RANDOM: simpleLb,
    PASSTHROUGH: simpleLb,
    RING_HASH: s.obj(
      {
        kind: s.str(),
        hashOn: hashKey,
        minimumRingSize: s.int({ min: 1, max: 8388608 }),
        locality: localityPolicy,
      },
      { required: ['kind', 'hashOn'] },
    ),
    MAGLEV: s.obj(
      {
        kind: s.str(),
        hashOn: hashKey,
        tableSize: s.int({ min: 1, max: 5000010 }),
        locality: localityPolicy,
      },
      { required: ['kind', 'hashOn'] },
    ),
  },
  'a load balancer',
);

const connectionPool = s.obj(
  {
    maxConnections: uint32,
    maxPendingRequests: uint32,
    maxRequests: uint32,
    maxRequestsPerConnection: uint32,
    maxRetries: uint32,
    idleTimeoutMs: positiveMs,
  },
  {
    required: [
      'maxConnections',
      'maxPendingRequests',
      'maxRequests',
      'maxRequestsPerConnection',
      'maxRetries',
    ],
  },
);

const outlierDetection = s.obj(
  {
    consecutive5xxErrors: uint32,
    consecutiveGatewayErrors: uint32,
    consecutiveLocalOriginFailures: uint32,
    splitExternalLocalOriginErrors: s.bool(),
    intervalMs: positiveMs,
    baseEjectionTimeMs: positiveMs,
    maxEjectionPercent: s.int({ min: 0, max: 100 }),
    minHealthPercent: s.int({ min: 0, max: 100 }),
  },
  {
    required: [
      'consecutive5xxErrors',
      'consecutiveGatewayErrors',
      'consecutiveLocalOriginFailures',
      'splitExternalLocalOriginErrors',
      'intervalMs',
      'baseEjectionTimeMs',
      'maxEjectionPercent',
      'minHealthPercent',
    ],
  },
);

const endpoint = s.obj(
  {
    address: name,
    port: servicePort,
    spiffeId: s.str(),
    labels,
    workload: s.str(),
    locality: s.str(),
    weight: s.int({ min: 1, max: UINT32_MAX }),
    tunnelPort: servicePort,
  },
  { required: ['address', 'port', 'spiffeId', 'labels', 'workload', 'locality', 'weight'] },
);

const cluster = s.obj(
  {
    name,
    service: name,
    port: servicePort,
    subset: name,
    protocol,
    traffic,
    lb: loadBalancer,
    connectTimeoutMs: positiveMs,
    tlsMode: s.str({ enum: ['ISTIO_MUTUAL', 'DISABLE'] as const }),
    connectionPool,
    outlierDetection,
    policyOrigin: s.obj(
      { destinationRule: name, levels: strings },
      { required: ['destinationRule', 'levels'] },
    ),
    missing: s.str({ minLength: 1 }),
    endpoints: s.arr(endpoint),
  },
  {
    required: [
      'name',
      'service',
      'port',
      'protocol',
      'traffic',
      'lb',
      'connectTimeoutMs',
      'tlsMode',
      'connectionPool',
      'endpoints',
    ],
  },
);

// ── the snapshot ────────────────────────────────────────────────────────────────────────────────

const snapshotSchema = s.obj(
  {
    wireVersion: s.int({ min: WIRE_VERSION, max: WIRE_VERSION }),
    version: name,
    proxy: s.obj(
      {
        namespace: name,
        workload: name,
        serviceAccount: name,
        spiffeId: name,
        address: name,
        labels,
        locality: s.str(),
      },
      { required: ['namespace', 'workload', 'serviceAccount', 'spiffeId', 'address', 'labels', 'locality'] },
    ),
    mesh: s.obj(
      {
        trustDomain: name,
        outboundTrafficPolicy: s.str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] as const }),
        protocolDetection: s.obj(
          { enabled: s.bool(), timeoutMs: positiveMs },
          { required: ['enabled', 'timeoutMs'] },
        ),
        connectTimeoutMs: positiveMs,
        accessLog: s.obj(
          { enabled: s.bool(), encoding: s.str({ enum: ['JSON', 'TEXT'] as const }) },
          { required: ['enabled', 'encoding'] },
        ),
      },
      {
        required: [
          'trustDomain',
          'outboundTrafficPolicy',
          'protocolDetection',
          'connectTimeoutMs',
          'accessLog',
        ],
      },
    ),
    listeners: s.arr(listener),
    clusters: s.arr(cluster),
    routeTables: s.arr(routeTable),
    tls: s.obj(
      { certFile: name, keyFile: name, caFile: name },
      { required: ['certFile', 'keyFile', 'caFile'] },
    ),
  },
  { required: ['wireVersion', 'version', 'proxy', 'mesh', 'listeners', 'clusters', 'routeTables'] },
);

// ── references ──────────────────────────────────────────────────────────────────────────────────

/** Every name a listener, route, mirror or TCP route refers to must exist in the snapshot, once. */
function checkReferences(snap: Snapshot, c: Checker): void {
  const clusters = uniqueNames(snap.clusters, 'clusters', c);
  const tables = uniqueNames(snap.routeTables, 'routeTables', c);
  const missing = (kind: string, value: string) =>
    `names ${kind} ${JSON.stringify(value)}, which the snapshot lacks`;
  snap.listeners.forEach((l, i) => {
    if ('routeTable' in l && l.routeTable !== undefined && !tables.has(l.routeTable)) {
      c.error(missing('route table', l.routeTable), 'listeners', i, 'routeTable');
    }
  });
  const check = (name: string, ...at: (string | number)[]) => {
    if (!clusters.has(name)) c.error(missing('cluster', name), ...at);
  };
  snap.routeTables.forEach((t, i) => {
    t.virtualHosts.forEach((vh, j) => {
      const at = ['routeTables', i, 'virtualHosts', j] as const;
      vh.routes.forEach((r, k) => {
        if (r.action.kind === 'forward') {
          r.action.destinations.forEach((d, n) => {
            check(d.cluster, ...at, 'routes', k, 'action', 'destinations', n, 'cluster');
          });
        }
        r.mirrors?.forEach((m, n) => {
          check(m.cluster, ...at, 'routes', k, 'mirrors', n, 'cluster');
        });
      });
      vh.tcpRoutes.forEach((r, k) => {
        r.destinations.forEach((d, n) => {
          check(d.cluster, ...at, 'tcpRoutes', k, 'destinations', n, 'cluster');
        });
      });
    });
  });
}

function uniqueNames(items: readonly { name: string }[], field: string, c: Checker): Set<string> {
  const seen = new Set<string>();
  items.forEach((x, i) => {
    if (seen.has(x.name)) c.error(`duplicate name ${JSON.stringify(x.name)}`, field, i, 'name');
    seen.add(x.name);
  });
  return seen;
}

export function encodeSnapshot(snapshot: Snapshot): string {
  return JSON.stringify(snapshot);
}

/** Parses and checks a snapshot; throws ALDER_SNAPSHOT_INVALID listing every problem. */
export function decodeSnapshot(text: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AlderError(ErrorCode.SnapshotInvalid, `snapshot is not JSON: ${(err as Error).message}`);
  }
  const c = new s.Checker([], { namespace: '' });
  if (snapshotSchema.check(value, c)) checkReferences(value as Snapshot, c);
  const errors = c.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `snapshot refused: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      {
        details: { errors },
      },
    );
  }
  const snapshot = value as Snapshot;
  // JSON has no undefined: an absent or null tls is none.
  snapshot.tls = snapshot.tls ?? undefined;
  return snapshot;
}
