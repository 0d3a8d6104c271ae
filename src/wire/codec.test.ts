import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSnapshot, encodeSnapshot } from './codec.ts';
import { type Snapshot, WIRE_VERSION } from './snapshot.ts';

const ALL = 'outbound|9080||reviews.shop.svc.cluster.local';
const V1 = 'outbound|9080|v1|reviews.shop.svc.cluster.local';
const DB = 'outbound|5432||reviews.shop.svc.cluster.local';
const RETRY = {
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [],
  retryRemoteLocalities: false,
  backoff: { baseMs: 25, maxMs: 250 },
};
const POOL = {
  maxConnections: 4294967295,
  maxPendingRequests: 4294967295,
  maxRequests: 4294967295,
  maxRequestsPerConnection: 0,
  maxRetries: 4294967295,
};
const VS_ORIGIN = { kind: 'VirtualService' as const, virtualServices: ['shop/reviews'], paths: ['http[0]'] };
const DEFAULT_ORIGIN = { kind: 'default' as const, virtualServices: [], paths: [] };

/** A snapshot using every field of the wire format, as the compiler would write it. */
const good: Snapshot = {
  wireVersion: WIRE_VERSION,
  version: 'abc',
  proxy: {
    namespace: 'shop',
    workload: 'client',
    serviceAccount: 'client',
    spiffeId: 'spiffe://cluster.local/ns/shop/sa/client',
    address: '127.0.2.9',
    labels: {},
    locality: 'us-east/zone-a',
  },
  mesh: {
    trustDomain: 'cluster.local',
    outboundTrafficPolicy: 'REGISTRY_ONLY',
    protocolDetection: { enabled: false, timeoutMs: 100 },
    connectTimeoutMs: 10_000,
    accessLog: { enabled: true, encoding: 'JSON' },
    http: {
      headersWithUnderscoresAction: 'DROP_HEADER',
      extensionMethods: ['PURGE'],
      maxMethodBytes: 32,
      numTrustedProxies: 1,
    },
    pathNormalization: 'MERGE_SLASHES',
  },
  listeners: [
    {
      kind: 'outbound-proxy',
      name: 'outbound-proxy',
      address: '127.0.0.1',
      port: 15001,
      routeTable: 'outbound',
    },
    {
      kind: 'outbound-port',
      name: 'egress|5432',
      address: '127.0.0.1',
      port: 5432,
      traffic: 'tcp',
      routeTable: 'outbound',
    },
  ],
  clusters: [
    {
      name: ALL,
      service: 'reviews.shop.svc.cluster.local',
      port: 9080,
      protocol: 'HTTP',
      traffic: 'http',
      lb: {
        kind: 'ROUND_ROBIN',
        warmupMs: 30_000,
        locality: { failover: [{ from: 'us-east', to: 'us-west' }] },
      },
      connectTimeoutMs: 1000,
      tlsMode: 'ISTIO_MUTUAL',
      connectionPool: { ...POOL, idleTimeoutMs: 30_000 },
      outlierDetection: {
        consecutive5xxErrors: 5,
        consecutiveGatewayErrors: 0,
        consecutiveLocalOriginFailures: 5,
        splitExternalLocalOriginErrors: false,
        intervalMs: 10_000,
        baseEjectionTimeMs: 30_000,
        maxEjectionPercent: 10,
        minHealthPercent: 0,
      },
      policyOrigin: { destinationRule: 'shop/reviews', levels: ['trafficPolicy'] },
      endpoints: [
        {
          address: '127.0.2.1',
          port: 9080,
          spiffeId: 'spiffe://cluster.local/ns/shop/sa/reviews',
          labels: { version: 'v1' },
          workload: 'r1',
          locality: 'us-east/zone-a',
          weight: 1,
        },
      ],
    },
    {
      name: V1,
      service: 'reviews.shop.svc.cluster.local',
      port: 9080,
      subset: 'v1',
      protocol: 'HTTP',
      traffic: 'http',
      lb: {
        kind: 'RING_HASH',
        hashOn: { cookie: { name: 'session', ttlMs: 60_000 } },
        minimumRingSize: 1024,
      },
      connectTimeoutMs: 1000,
      tlsMode: 'ISTIO_MUTUAL',
      connectionPool: POOL,
      endpoints: [],
    },
    {
      name: DB,
      service: 'reviews.shop.svc.cluster.local',
      port: 5432,
      protocol: 'TCP',
      traffic: 'tcp',
      lb: { kind: 'MAGLEV', hashOn: { sourceIp: true }, tableSize: 65537 },
      connectTimeoutMs: 1000,
      tlsMode: 'DISABLE',
      connectionPool: POOL,
      endpoints: [],
    },
  ],
  routeTables: [
    {
      name: 'outbound',
      virtualHosts: [
        {
          name: 'reviews.shop.svc.cluster.local:9080',
          domains: ['reviews:9080'],
          traffic: 'http',
          routes: [
            {
              name: 'canary',
              origin: VS_ORIGIN,
              matches: [
                {
                  name: 'api',
                  uri: { prefix: '/api' },
                  method: { exact: 'GET' },
                  headers: [
                    { name: 'end-user', value: { regex: 'j.*' }, isInverted: false },
                    { name: 'x-debug', isInverted: true },
                  ],
                  queryParams: [{ name: 'v', value: { exact: '2' } }, { name: 'trace' }],
                  port: 9080,
                  sourceLabels: { app: 'client' },
                  sourceNamespace: 'shop',
                  ignoreUriCase: true,
                },
              ],
              action: {
                kind: 'forward',
                destinations: [
                  { cluster: V1, weight: 90, host: 'reviews.shop.svc.cluster.local', subset: 'v1' },
                  {
                    cluster: ALL,
                    weight: 10,
                    host: 'reviews.shop.svc.cluster.local',
                    headers: { response: { add: [['x-canary', '1']] } },
                  },
                ],
                rewrite: { uri: '/v2/', authority: 'reviews.internal' },
              },
              headers: { request: { set: [['x-a', 'b']], remove: ['cookie'] } },
              timeoutMs: 1500,
              retry: { ...RETRY, perTryTimeoutMs: 500, retriableStatusCodes: [503] },
              fault: {
                delay: { fixedMs: 100, percent: 10 },
                abort: { grpcStatus: 'UNAVAILABLE', percent: 1 },
              },
              mirrors: [{ cluster: V1, host: 'reviews.shop.svc.cluster.local', percent: 25 }],
              cors: {
                allowOrigins: [{ exact: 'https://a.example' }],
                allowMethods: ['GET'],
                allowHeaders: [],
                exposeHeaders: [],
                maxAgeSeconds: 60,
                allowCredentials: true,
                unmatchedPreflights: 'FORWARD',
              },
            },
            {
              name: 'http[1]',
              origin: { ...VS_ORIGIN, paths: ['http[1]'] },
              matches: [{ uri: { exact: '/old' } }],
              action: { kind: 'redirect', uri: '/new', status: 301, derivePort: 'FROM_REQUEST_PORT' },
            },
            {
              name: 'http[2]',
              origin: { ...VS_ORIGIN, paths: ['http[2]'] },
              matches: [{ uri: { exact: '/down' } }],
              action: { kind: 'direct', status: 503, bodyBase64: 'ZG93bg==' },
            },
            {
              name: 'default',
              origin: DEFAULT_ORIGIN,
              matches: [],
              action: { kind: 'forward', destinations: [{ cluster: ALL, weight: 100, host: 'reviews' }] },
              retry: RETRY,
            },
          ],
          tcpRoutes: [],
        },
        {
          name: 'reviews.shop.svc.cluster.local:5432',
          domains: ['reviews:5432'],
          traffic: 'tcp',
          routes: [],
          tcpRoutes: [
            {
              name: 'tcp[0]',
              origin: { ...VS_ORIGIN, paths: ['tcp[0]'] },
              matches: [{ port: 5432, destinationSubnets: ['10.0.0.0/8'] }],
              destinations: [{ cluster: DB, weight: 100, host: 'reviews.shop.svc.cluster.local' }],
            },
          ],
        },
      ],
      egressScope: {
        sidecar: 'shop/default',
        hosts: ['./*', 'istio-system/*'],
        moreHosts: 0,
        hiddenDomains: ['details.books.svc.cluster.local:9080', 'details.books:9080'],
      },
    },
  ],
  tls: undefined,
};

type Json = Record<string, unknown>;
const at = (o: unknown, ...path: (string | number)[]): Json =>
  path.reduce((x, k) => (x as Record<string | number, unknown>)[k], o) as Json;
const route = (s: Json, i = 0) => at(s, 'routeTables', 0, 'virtualHosts', 0, 'routes', i);
const cluster = (s: Json, i = 0) => at(s, 'clusters', i);

describe('snapshot codec', () => {
  it('codec: round-trips a snapshot using every field', () => {
    const back = decodeSnapshot(encodeSnapshot(good));
    assert.deepEqual(back, good);
  });

  it('codec: accepts TLS origination modes with the DestinationRule that set them', () => {
    for (const mode of ['SIMPLE', 'MUTUAL']) {
      const copy = JSON.parse(encodeSnapshot(good)) as Json;
      cluster(copy, 1).tlsMode = mode;
      cluster(copy, 1).policyOrigin = { destinationRule: 'shop/reviews', levels: ['subsets[v1]'] };
      cluster(copy, 1).originate = {
        sni: 'reviews.example.com',
        ...(mode === 'MUTUAL' ? { certFile: '/c.pem', keyFile: '/k.pem' } : {}),
      };
      const back = decodeSnapshot(JSON.stringify(copy));
      assert.equal(back.clusters[1]?.tlsMode, mode, `want tlsMode ${mode} decoded as sent`);
    }
  });

  const bad: { name: string; mutate: (s: Json) => void; want: RegExp }[] = [
    {
      name: 'an older wire version',
      mutate: (s) => {
        s.wireVersion = 2;
      },
      want: new RegExp(`wireVersion: must be between ${WIRE_VERSION} and ${WIRE_VERSION}, got 2`),
    },
    {
      name: 'an outbound port without a route table',
      mutate: (s) => void delete at(s, 'listeners', 1).routeTable,
      want: /listeners\[1\]\.routeTable: is required on an outbound-port listener/,
    },
    {
      name: 'an outbound port naming a cluster (wire version 2)',
      mutate: (s) => {
        at(s, 'listeners', 1).cluster = DB;
      },
      want: /listeners\[1\]\.cluster: unknown field/,
    },
    {
      name: 'an outbound port naming a missing route table',
      mutate: (s) => {
        at(s, 'listeners', 1).routeTable = 'egress|5432';
      },
      want: /listeners\[1\]\.routeTable: names route table "egress\|5432", which the snapshot lacks/,
    },
    {
      name: 'a listener without a port',
      mutate: (s) => void delete at(s, 'listeners', 0).port,
      want: /listeners\[0\]\.port: is required/,
    },
    {
      name: 'a proxy without its locality',
      mutate: (s) => void delete at(s, 'proxy').locality,
      want: /proxy\.locality: is required/,
    },
    {
      name: 'a route destination naming a missing cluster',
      mutate: (s) => {
        (s.clusters as unknown[]).splice(1, 1);
      },
      want: /routeTables\[0\]\.virtualHosts\[0\]\.routes\[0\]\.action\.destinations\[0\]\.cluster: names cluster "outbound\|9080\|v1\|reviews\.shop\.svc\.cluster\.local", which the snapshot lacks/,
    },
    {
      name: 'a mirror naming a missing cluster',
      mutate: (s) => {
        at(route(s), 'mirrors', 0).cluster = 'outbound|1||nowhere';
      },
      want: /routes\[0\]\.mirrors\[0\]\.cluster: names cluster "outbound\|1\|\|nowhere"/,
    },
    {
      name: 'a TCP route naming a missing cluster',
      mutate: (s) => {
        at(s, 'routeTables', 0, 'virtualHosts', 1, 'tcpRoutes', 0, 'destinations', 0).cluster = 'gone';
      },
      want: /virtualHosts\[1\]\.tcpRoutes\[0\]\.destinations\[0\]\.cluster: names cluster "gone"/,
    },
    {
      name: 'two clusters of one name',
      mutate: (s) => {
        cluster(s, 1).name = ALL;
      },
      want: /clusters\[1\]\.name: duplicate name/,
    },
    {
      name: 'an unknown TLS mode',
      mutate: (s) => {
        cluster(s).tlsMode = 'SOMETIMES';
      },
      want: /clusters\[0\]\.tlsMode: must be one of/,
    },
    {
      name: 'TLS origination without the DestinationRule that set it',
      mutate: (s) => {
        const c = cluster(s);
        c.tlsMode = 'SIMPLE';
        c.originate = { sni: 'x.example.com' };
        delete c.policyOrigin;
      },
      want: /clusters\[0\]\.tlsMode: SIMPLE needs policyOrigin/,
    },
    {
      name: 'TLS origination without its settings',
      mutate: (s) => {
        const c = cluster(s);
        c.tlsMode = 'SIMPLE';
        c.policyOrigin = { destinationRule: 'shop/reviews', levels: [] };
      },
      want: /clusters\[0\]\.originate: originate is set exactly when tlsMode is SIMPLE or MUTUAL/,
    },
    {
      name: 'an egress scope listing more than 16 hosts',
      mutate: (s) => {
        at(s, 'routeTables', 0).egressScope = {
          sidecar: 'shop/default',
          hosts: Array.from({ length: 17 }, (_, i) => `ns${i}/*`),
          moreHosts: 0,
        };
      },
      want: /routeTables\[0\]\.egressScope\.hosts: must have at most 16 items, got 17/,
    },
    {
      name: 'an unknown load balancer',
      mutate: (s) => {
        cluster(s).lb = { kind: 'FASTEST' };
      },
      want: /clusters\[0\]\.lb\.kind: must be one of ROUND_ROBIN, LEAST_REQUEST, RANDOM, PASSTHROUGH, RING_HASH, MAGLEV, got "FASTEST"/,
    },
    {
      name: 'a ring hash without a hash key',
      mutate: (s) => void delete at(cluster(s, 1), 'lb').hashOn,
      want: /clusters\[1\]\.lb\.hashOn: is required/,
    },
    {
      name: 'a hash on two keys',
      mutate: (s) => {
        at(cluster(s, 1), 'lb').hashOn = { header: 'x-user', sourceIp: true };
      },
      want: /clusters\[1\]\.lb\.hashOn: must set exactly one of header, cookie, sourceIp, queryParameter, got 2/,
    },
    {
      name: 'a warmup on a hash load balancer',
      mutate: (s) => {
        at(cluster(s, 1), 'lb').warmupMs = 10;
      },
      want: /clusters\[1\]\.lb\.warmupMs: unknown field/,
    },
    {
      name: 'a connection limit beyond uint32',
      mutate: (s) => {
        at(cluster(s), 'connectionPool').maxConnections = 4294967296;
      },
      want: /clusters\[0\]\.connectionPool\.maxConnections: must be between 0 and 4294967295/,
    },
    {
      name: 'an ejection percentage above 100',
      mutate: (s) => {
        at(cluster(s), 'outlierDetection').maxEjectionPercent = 101;
      },
      want: /clusters\[0\]\.outlierDetection\.maxEjectionPercent: must be between 0 and 100, got 101/,
    },
    {
      name: 'an endpoint of weight 0',
      mutate: (s) => {
        at(cluster(s), 'endpoints', 0).weight = 0;
      },
      want: /clusters\[0\]\.endpoints\[0\]\.weight: must be between 1 and 4294967295, got 0/,
    },
    {
      name: 'an endpoint without a locality',
      mutate: (s) => void delete at(cluster(s), 'endpoints', 0).locality,
      want: /clusters\[0\]\.endpoints\[0\]\.locality: is required/,
    },
    {
      name: 'an unknown route action',
      mutate: (s) => {
        route(s).action = { kind: 'teleport' };
      },
      want: /routes\[0\]\.action\.kind: must be one of forward, redirect, direct, got "teleport"/,
    },
    {
      name: 'destinations that all weigh 0',
      mutate: (s) => {
        for (const d of at(route(s), 'action').destinations as Json[]) d.weight = 0;
      },
      want: /routes\[0\]\.action\.destinations: must give at least one destination a positive weight/,
    },
    {
      name: 'a string match with two kinds',
      mutate: (s) => {
        at(route(s), 'matches', 0).uri = { exact: '/a', prefix: '/b' };
      },
      want: /routes\[0\]\.matches\[0\]\.uri: must set exactly one of exact, prefix, regex, got 2/,
    },
    {
      name: 'an upper-case header name',
      mutate: (s) => {
        at(route(s), 'matches', 0, 'headers', 0).name = 'End-User';
      },
      want: /routes\[0\]\.matches\[0\]\.headers\[0\]\.name: must be lower-case/,
    },
    {
      name: 'a header edit that is not a pair',
      mutate: (s) => {
        at(route(s), 'headers', 'request').set = [['x-a']];
      },
      want: /routes\[0\]\.headers\.request\.set\[0\]: must be a \[name, value\] pair, got 1 items/,
    },
    {
      name: 'an unknown retry condition',
      mutate: (s) => {
        at(route(s), 'retry').retryOn = ['sometimes'];
      },
      want: /routes\[0\]\.retry\.retryOn\[0\]: must be one of 5xx/,
    },
    {
      name: 'a back-off ceiling under its base',
      mutate: (s) => {
        at(route(s), 'retry').backoff = { baseMs: 100, maxMs: 50 };
      },
      want: /routes\[0\]\.retry\.backoff\.maxMs: must be at least baseMs \(100\), got 50/,
    },
    {
      name: 'an abort with both an HTTP and a gRPC status',
      mutate: (s) => {
        at(route(s), 'fault').abort = { httpStatus: 503, grpcStatus: 'UNAVAILABLE', percent: 1 };
      },
      want: /routes\[0\]\.fault\.abort: must set exactly one of httpStatus, grpcStatus, got 2/,
    },
    {
      name: 'a fault percentage above 100',
      mutate: (s) => {
        at(route(s), 'fault', 'delay').percent = 150;
      },
      want: /routes\[0\]\.fault\.delay\.percent: must be between 0 and 100, got 150/,
    },
    {
      name: 'a CORS policy without unmatchedPreflights',
      mutate: (s) => void delete at(route(s), 'cors').unmatchedPreflights,
      want: /routes\[0\]\.cors\.unmatchedPreflights: is required/,
    },
    {
      name: 'a redirect with a status that is no redirect',
      mutate: (s) => {
        at(route(s, 1), 'action').status = 200;
      },
      want: /routes\[1\]\.action\.status: must be between 300 and 399, got 200/,
    },
    {
      name: 'a direct response body that is not base64',
      mutate: (s) => {
        at(route(s, 2), 'action').bodyBase64 = 'not base64!';
      },
      want: /routes\[2\]\.action\.bodyBase64: must be base64/,
    },
    {
      name: 'a VirtualService origin naming no VirtualService',
      mutate: (s) => {
        route(s).origin = { kind: 'VirtualService', virtualServices: [], paths: [] };
      },
      want: /routes\[0\]\.origin: names each VirtualService on the way with one path/,
    },
    {
      name: 'a mesh without its HTTP request rules',
      mutate: (s) => void delete at(s, 'mesh').http,
      want: /mesh\.http: is required/,
    },
    {
      name: 'an underscore action Envoy does not have',
      mutate: (s) => {
        at(s, 'mesh', 'http').headersWithUnderscoresAction = 'IGNORE';
      },
      want: /mesh\.http\.headersWithUnderscoresAction: must be one of ALLOW, REJECT_REQUEST, DROP_HEADER, got "IGNORE"/,
    },
    {
      name: "a path normalization Istio does not have (DEFAULT is the compiler's to resolve)",
      mutate: (s) => {
        at(s, 'mesh').pathNormalization = 'DEFAULT';
      },
      want: /mesh\.pathNormalization: must be one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, got "DEFAULT"/,
    },
    {
      name: 'an extension method that is not a token',
      mutate: (s) => {
        at(s, 'mesh', 'http').extensionMethods = ['MY METHOD'];
      },
      want: /mesh\.http\.extensionMethods\[0\]: must be an HTTP token, got "MY METHOD"/,
    },
    {
      name: 'a virtual host without tcpRoutes',
      mutate: (s) => void delete at(s, 'routeTables', 0, 'virtualHosts', 0).tcpRoutes,
      want: /virtualHosts\[0\]\.tcpRoutes: is required/,
    },
  ];
  for (const b of bad) {
    it(`codec: refuses a snapshot with ${b.name}, naming the field`, () => {
      const copy = JSON.parse(encodeSnapshot(good)) as Json;
      b.mutate(copy);
      assert.throws(
        () => decodeSnapshot(JSON.stringify(copy)),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ALDER_SNAPSHOT_INVALID');
          assert.match(err.message, b.want);
          return true;
        },
      );
    });
  }
});
