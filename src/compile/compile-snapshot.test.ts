import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource, SidecarSpec } from '../config/index.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  type InboundListener,
  type OutboundPortListener,
} from '../wire/index.ts';
import { config } from './compile.test-kit.ts';
import { compileSnapshot } from './compile-snapshot.ts';

const MESH = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
  - {name: db, port: 5432, targetPort: 15432}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v1, namespace: shop}
spec: {address: 127.0.2.1, labels: {app: reviews, version: v1}, serviceAccount: reviews}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v2, namespace: shop}
spec: {address: 127.0.2.2, labels: {app: reviews, version: v2}, serviceAccount: reviews, ports: {http: 19080}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: shop}
spec: {address: 127.0.2.9, labels: {app: client}}
`;

/** A Sidecar sending the reviews workloads' port 9080 to their app on 127.0.0.1:29080. */
const REVIEWS_INGRESS = `---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews, namespace: shop}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:29080
`;

function inbound(snapshot: ReturnType<typeof compileSnapshot>): InboundListener[] {
  return snapshot.listeners.filter((l): l is InboundListener => l.kind === 'inbound');
}

describe('compileSnapshot', () => {
  it('compile: gives a workload one inbound listener per served port, with its protocol and the mesh default STRICT', () => {
    const snap = compileSnapshot(config(MESH), { workload: { namespace: 'shop', name: 'reviews-v1' } });
    assert.deepEqual(
      inbound(snap).map((l) => [l.port, l.protocol, l.traffic, l.mtlsMode, `${l.app.address}:${l.app.port}`]),
      [
        [9080, 'HTTP', 'http', 'STRICT', '127.0.0.1:9080'],
        [15432, 'TCP', 'tcp', 'STRICT', '127.0.0.1:15432'],
      ],
    );
    assert.equal(snap.proxy.spiffeId, 'spiffe://cluster.local/ns/shop/sa/reviews');
  });

  it('compile: names clusters as Istio does and lists endpoints with their own ports and identities', () => {
    const snap = compileSnapshot(config(MESH), { workload: { namespace: 'shop', name: 'client' } });
    const http = snap.clusters.find((c) => c.name === 'outbound|9080||reviews.shop.svc.cluster.local');
    assert.ok(http, `want the reviews cluster, got ${snap.clusters.map((c) => c.name)}`);
    assert.deepEqual(
      http.endpoints.map((e) => `${e.address}:${e.port} ${e.spiffeId}`),
      [
        '127.0.2.1:9080 spiffe://cluster.local/ns/shop/sa/reviews',
        '127.0.2.2:19080 spiffe://cluster.local/ns/shop/sa/reviews',
      ],
      'want the WorkloadEntry ports map to override the service port',
    );
    assert.equal(http.tlsMode, 'ISTIO_MUTUAL');
    const vh = snap.routeTables[0]?.virtualHosts.find(
      (v) => v.name === 'reviews.shop.svc.cluster.local:9080',
    );
    assert.deepEqual(vh?.domains, [
      'reviews.shop.svc.cluster.local:9080',
      'reviews.shop.svc:9080',
      'reviews.shop:9080',
      'reviews:9080',
    ]);
  });

  it('compile: an unnamed port is TCP with sniffing off, and detected with sniffing on', () => {
    const yaml = MESH.replace('{name: db, port: 5432, targetPort: 15432}', '{name: metrics, port: 7070}');
    const off = compileSnapshot(config(yaml), { workload: { namespace: 'shop', name: 'reviews-v1' } });
    assert.equal(inbound(off).find((l) => l.port === 7070)?.traffic, 'tcp');
    const on = compileSnapshot(
      config(
        `${yaml}---\napiVersion: mesh.alder.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: default}\nspec: {protocolDetection: {enabled: true}}\n`,
      ),
      { workload: { namespace: 'shop', name: 'reviews-v1' } },
    );
    assert.equal(inbound(on).find((l) => l.port === 7070)?.traffic, 'detect');
    assert.equal(on.mesh.protocolDetection.timeoutMs, 100);
  });

  const pa = (ns: string, spec: string) =>
    `---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p-${ns}-${spec.length}, namespace: ${ns}}\nspec: ${spec}\n`;
  const modes: { name: string; policies: string; want: [number, string][] }[] = [
    {
      name: 'mesh default',
      policies: '',
      want: [
        [9080, 'STRICT'],
        [15432, 'STRICT'],
      ],
    },
    {
      name: 'root namespace policy',
      policies: pa('alder-system', '{mtls: {mode: PERMISSIVE}}'),
      want: [
        [9080, 'PERMISSIVE'],
        [15432, 'PERMISSIVE'],
      ],
    },
    {
      name: 'namespace policy over root',
      policies: pa('alder-system', '{mtls: {mode: PERMISSIVE}}') + pa('shop', '{mtls: {mode: DISABLE}}'),
      want: [
        [9080, 'DISABLE'],
        [15432, 'DISABLE'],
      ],
    },
    {
      name: 'workload port-level over workload over namespace',
      policies:
        pa('shop', '{mtls: {mode: DISABLE}}') +
        pa(
          'shop',
          '{selector: {matchLabels: {app: reviews}}, mtls: {mode: STRICT}, portLevelMtls: {15432: {mode: PERMISSIVE}}}',
        ),
      want: [
        [9080, 'STRICT'],
        [15432, 'PERMISSIVE'],
      ],
    },
    {
      name: 'UNSET inherits',
      policies:
        pa('shop', '{mtls: {mode: PERMISSIVE}}') +
        pa('shop', '{selector: {matchLabels: {app: reviews}}, mtls: {mode: UNSET}}'),
      want: [
        [9080, 'PERMISSIVE'],
        [15432, 'PERMISSIVE'],
      ],
    },
  ];
  for (const m of modes) {
    it(`compile: resolves inbound mTLS by PeerAuthentication precedence: ${m.name}`, () => {
      const snap = compileSnapshot(config(MESH + m.policies), {
        workload: { namespace: 'shop', name: 'reviews-v1' },
      });
      assert.deepEqual(
        inbound(snap).map((l) => [l.port, l.mtlsMode]),
        m.want,
      );
    });
  }

  it('compile: originates plaintext to a destination whose workloads all disable mTLS', () => {
    const snap = compileSnapshot(
      config(MESH + pa('shop', '{selector: {matchLabels: {app: reviews}}, mtls: {mode: DISABLE}}')),
      {
        workload: { namespace: 'shop', name: 'client' },
      },
    );
    assert.equal(snap.clusters.find((c) => c.service.startsWith('reviews.'))?.tlsMode, 'DISABLE');
  });

  it('compile: takes the app address from a Sidecar ingress defaultEndpoint', () => {
    const snap = compileSnapshot(config(MESH + REVIEWS_INGRESS), {
      workload: { namespace: 'shop', name: 'reviews-v1' },
    });
    assert.deepEqual(inbound(snap).find((l) => l.port === 9080)?.app, { address: '127.0.0.1', port: 29080 });
  });

  it('compile: refuses a Sidecar ingress defaultEndpoint on a unix socket, never forwarding to 127.0.0.1 instead', () => {
    // Validation refuses it now; an object stored before that, or built by hand, must not slip through.
    const resources = config(MESH + REVIEWS_INGRESS);
    const stored = resources.find((r) => r.kind === 'Sidecar') as Resource<SidecarSpec>;
    const ingress = stored.spec?.ingress?.[0];
    assert.ok(ingress, 'want the Sidecar ingress listener');
    ingress.defaultEndpoint = 'unix:///var/run/reviews.sock';
    assert.throws(() => compileSnapshot(resources, { workload: { namespace: 'shop', name: 'reviews-v1' } }), {
      code: 'ALDER_COMPILE_FAILED',
      message:
        'Sidecar shop/reviews: spec.ingress[0].defaultEndpoint: unix domain sockets are not supported, got "unix:///var/run/reviews.sock"',
    });
  });

  it('compile: turns Sidecar egress ports into local listeners, each with a route table of its services', () => {
    const sidecar = `---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: client, namespace: shop}
spec:
  workloadSelector: {labels: {app: client}}
  egress:
  - port: {number: 5432, protocol: TCP, name: db}
    bind: 127.0.0.1
    hosts: [./reviews.shop.svc.cluster.local]
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.1
    hosts: ["*/*"]
`;
    const snap = compileSnapshot(config(MESH + sidecar), { workload: { namespace: 'shop', name: 'client' } });
    const ports = snap.listeners.filter((l): l is OutboundPortListener => l.kind === 'outbound-port');
    assert.deepEqual(
      ports.map((l) => [l.port, l.traffic, l.routeTable]),
      [
        [5432, 'tcp', 'egress|5432'],
        [9080, 'http', 'egress|9080'],
      ],
    );
  });

  it('compile: refuses a workload the config does not define, saying what to add', () => {
    assert.throws(() => compileSnapshot(config(MESH), { workload: { namespace: 'shop', name: 'ghost' } }), {
      code: 'ALDER_COMPILE_FAILED',
      message: /no WorkloadEntry shop\/ghost/,
    });
  });

  it('compile: a config using every routing feature gives a snapshot the codec accepts unchanged', () => {
    const traffic = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 10s}}, localityLbSetting: {failover: [{from: a, to: b}]}}
    connectionPool: {tcp: {maxConnections: 10}, http: {idleTimeout: 5s}}
    outlierDetection: {consecutive5xxErrors: 2}
  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 10s}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {regex: "/r/[0-9]+"}, headers: {x-a: {}}, withoutHeaders: {x-b: {exact: c}}, queryParams: {q: {prefix: p}}}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 90, headers: {request: {set: {x-v: "1"}}}}
    - {destination: {host: reviews}, weight: 10}
    rewrite: {uri: /x}
    timeout: 2s
    retries: {attempts: 3, retryOn: "gateway-error,503", perTryTimeout: 1s}
    fault: {delay: {fixedDelay: 5ms, percentage: {value: 1}}, abort: {httpStatus: 418, percentage: {value: 2}}}
    mirrors: [{destination: {host: reviews, subset: v1}, percentage: {value: 5}}]
    corsPolicy: {allowOrigins: [{prefix: "https://"}], maxAge: 1m}
    headers: {response: {remove: [server]}}
  - match: [{uri: {exact: /gone}}]
    redirect: {uri: /here, redirectCode: 302}
  - directResponse: {status: 404, body: {string: nope}}
  tcp:
  - route: [{destination: {host: reviews, port: {number: 5432}, subset: v1}}]
`;
    const snap = compileSnapshot(config(MESH + traffic), { workload: { namespace: 'shop', name: 'client' } });
    assert.deepEqual(decodeSnapshot(encodeSnapshot(snap)), snap);
  });

  it('compile: gives equal config an equal version and changed config another', () => {
    const a = compileSnapshot(config(MESH), { workload: { namespace: 'shop', name: 'client' } });
    const b = compileSnapshot(config(MESH), { workload: { namespace: 'shop', name: 'client' } });
    const c = compileSnapshot(config(MESH.replace('127.0.2.2', '127.0.2.3')), {
      workload: { namespace: 'shop', name: 'client' },
    });
    assert.equal(a.version, b.version, 'want a stable version for the same config');
    assert.notEqual(a.version, c.version, 'want a new version when an endpoint moves');
  });
});
