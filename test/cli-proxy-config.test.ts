// `alder proxy-config routes|clusters|endpoints` against a real client proxy's admin port: the
// VirtualService's routes, the subset clusters with their DestinationRule, the endpoints and their
// health, as tables and as JSON; then an endpoint ejected by outlier detection, live.
// Mesh: client 127.0.40.1 → reviews-v1 (127.0.40.2), reviews-v2 (127.0.40.3).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterView, EndpointView, RouteTableView } from '../src/proxy/index.ts';
import { type AppMesh, startAppMesh } from './cli-mesh-fixture.ts';
import { alder } from './harness.ts';

const V1 = 'outbound|9080|v1|reviews.shop.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.shop.svc.cluster.local';
const FQDN = 'reviews.shop.svc.cluster.local';

const YAML = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - name: jason-v2
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: api
    match: [{uri: {prefix: /api/}}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 100}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 60s, maxEjectionPercent: 100}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
`;

/** A table's rows as cells (split on the three-space column gap), header first. */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {3,}/));
}

describe('alder proxy-config against a running proxy', () => {
  let m: AppMesh;
  const pc = async (args: string[]) => {
    const r = await alder(['proxy-config', ...args, '--admin', m.clientAdmin]);
    return r;
  };

  before(async () => {
    m = await startAppMesh({
      prefix: 'proxy-config',
      client: { name: 'client', address: '127.0.40.1' },
      servers: [
        { name: 'reviews-v1', address: '127.0.40.2', labels: { app: 'reviews', version: 'v1' } },
        { name: 'reviews-v2', address: '127.0.40.3', labels: { app: 'reviews', version: 'v2' } },
      ],
      port: 9080,
      yaml: YAML,
    });
  });

  after(async () => {
    await m?.stop();
  });

  it('proxy-config routes: one row per match block, named by route table, with its VirtualService', async () => {
    const r = await pc(['routes']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      rows(r.stdout).filter((row) => row[1] === 'reviews:9080' || row[0] === 'NAME'),
      [
        ['NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'],
        ['outbound', 'reviews:9080', '/* end-user=jason', 'shop/reviews'],
        ['outbound', 'reviews:9080', '/api/*', 'shop/reviews'],
        ['outbound', 'reviews:9080', '/*', 'shop/reviews'],
      ],
      `want the three routes of VirtualService shop/reviews; got:\n${r.stdout}`,
    );
  });

  it('proxy-config routes -o wide: each route and its weighted destinations', async () => {
    const r = await pc(['routes', '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const table = rows(r.stdout);
    assert.deepEqual(table[0], ['NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE', 'ROUTE', 'DESTINATION']);
    const api = table.find((row) => row[2] === '/api/*');
    assert.deepEqual(api?.slice(4), ['http[1] "api"', 'subset v1 (80/100), subset v2 (20/100)'], r.stdout);
    const jason = table.find((row) => row[2] === '/* end-user=jason');
    assert.deepEqual(jason?.slice(4), ['http[0] "jason-v2"', 'subset v2'], r.stdout);
  });

  it('proxy-config routes -o json: matches in words, destinations with weights and subsets, policies', async () => {
    const r = await pc(['routes', '-o', 'json', '--name', 'outbound']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { version: string; routeTables: RouteTableView[] };
    assert.match(doc.version, /^[0-9a-f]{16}$/);
    const vh = doc.routeTables[0]?.virtualHosts.find((v) => v.name === `${FQDN}:9080`);
    assert.ok(vh, `want the reviews virtual host; got ${r.stdout.slice(0, 300)}`);
    assert.ok(vh.domains.includes('reviews:9080'));
    const [jason, api, fallback] = vh.routes;
    assert.equal(jason?.origin, 'VirtualService shop/reviews http[0]');
    assert.equal(jason?.matches[0]?.words, 'headers end-user exact "jason"');
    assert.equal(api?.matches[0]?.words, 'uri prefix "/api/"');
    assert.deepEqual(
      api?.action.kind === 'forward'
        ? api.action.destinations.map((d) => [d.subset, d.weight, d.cluster])
        : api?.action,
      [
        ['v1', 80, V1],
        ['v2', 20, V2],
      ],
    );
    assert.equal(fallback?.path, 'http[2]');
    assert.deepEqual(
      fallback?.words.map((w) => w.label),
      ['retries'],
      'want the default retry policy in words on a plain forward route',
    );
  });

  it('proxy-config routes --name: a table the proxy does not have lists nothing', async () => {
    const r = await pc(['routes', '--name', 'nope']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no routes match/);
  });

  it('proxy-config clusters: the subset clusters with the DestinationRule that set their policy', async () => {
    const r = await pc(['clusters']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(rows(r.stdout), [
      ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'],
      [FQDN, '9080', '-', 'outbound', 'EDS', 'shop/reviews'],
      [FQDN, '9080', 'v1', 'outbound', 'EDS', 'shop/reviews'],
      [FQDN, '9080', 'v2', 'outbound', 'EDS', 'shop/reviews'],
    ]);
    const wide = await pc(['clusters', '--fqdn', 'reviews', '--subset', 'v2', '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.deepEqual(rows(wide.stdout)[1], [
      FQDN,
      '9080',
      'v2',
      'outbound',
      'EDS',
      'shop/reviews',
      'trafficPolicy,subsets[v2]',
      'ROUND_ROBIN',
      'ISTIO_MUTUAL',
      '1/1',
      '0',
    ]);
  });

  it('proxy-config clusters -o json: policy from the DestinationRule, and the live balancer, breaker and detector', async () => {
    const r = await pc(['clusters', '--fqdn', FQDN, '--port', '9080', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const { clusters } = JSON.parse(r.stdout) as { clusters: ClusterView[] };
    assert.deepEqual(
      clusters.map((c) => c.name),
      [`outbound|9080||${FQDN}`, V1, V2],
    );
    const v2 = clusters.find((c) => c.subset === 'v2');
    assert.deepEqual(v2?.policyOrigin, {
      destinationRule: 'shop/reviews',
      levels: ['trafficPolicy', 'subsets[v2]'],
    });
    assert.equal(v2?.lb.kind, 'ROUND_ROBIN');
    assert.equal(v2?.connectionPool.maxConnections, 100);
    assert.equal(v2?.outlierDetection?.consecutive5xxErrors, 3);
    assert.equal(
      v2?.policy,
      'DestinationRule shop/reviews (trafficPolicy, subsets[v2]): ROUND_ROBIN, maxConnections 100, outlier 3×5xx / 10s (eject 1m, max 100%), mTLS ISTIO_MUTUAL',
    );
    assert.deepEqual(v2?.balancer.priorities[0]?.endpoints, ['127.0.40.3:9080']);
    assert.equal(typeof v2?.circuitBreaker.requests, 'number');
    assert.equal(v2?.outlier.endpoints, 1);
    assert.equal(clusters.find((c) => c.subset === 'v1')?.lb.kind, 'LEAST_REQUEST');
  });

  it('proxy-config endpoints: every endpoint of every cluster, healthy, and filtered by cluster', async () => {
    const r = await pc(['endpoints']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(rows(r.stdout), [
      ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER', 'OBSERVED'],
      ['127.0.40.2:9080', 'HEALTHY', 'OK', `outbound|9080||${FQDN}`, 'HEALTHY'],
      ['127.0.40.2:9080', 'HEALTHY', 'OK', V1, 'HEALTHY'],
      ['127.0.40.3:9080', 'HEALTHY', 'OK', `outbound|9080||${FQDN}`, 'HEALTHY'],
      ['127.0.40.3:9080', 'HEALTHY', 'OK', V2, 'HEALTHY'],
    ]);
    const json = await pc(['endpoints', '--cluster', V1, '-o', 'json']);
    const { endpoints } = JSON.parse(json.stdout) as { endpoints: EndpointView[] };
    assert.deepEqual(
      endpoints.map((e) => [e.endpoint, e.workload, e.status, e.labels.version]),
      [['127.0.40.2:9080', 'reviews-v1', 'HEALTHY', 'v1']],
    );
  });

  it('proxy-config: usage mistakes exit 2, an unreachable admin port exits 1 with a hint', async () => {
    for (const args of [
      ['bogus'],
      ['clusters', '--port', 'x'],
      ['routes', '--fqdn', 'reviews'],
      ['routes', '-o', 'yaml'],
    ]) {
      const r = await pc(args);
      assert.equal(r.code, 2, `proxy-config ${args.join(' ')}: want exit 2, got ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^error: .*\nhint: run `alder proxy-config --help`/);
    }
    const down = await alder(['proxy-config', 'clusters', '--admin', '127.0.40.9:15000']);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      /error: cannot reach the proxy's admin port at http:\/\/127\.0\.40\.9:15000: ECONNREFUSED\nhint: /,
    );
    const help = await alder(['proxy-config', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /alder proxy-config endpoints/);
  });

  // Last: it ejects reviews-v2 from the v2 subset cluster for a minute.
  it('proxy-config endpoints: an endpoint that answered 503 three times is ejected, and explain says so', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await m.send('http://reviews:9080/', {
        headers: { 'end-user': 'jason', 'x-test-status': '503' },
      });
      assert.deepEqual([reply.status, reply.workload], [503, 'reviews-v2'], `request ${i}: ${reply.body}`);
    }
    const r = await pc(['endpoints', '--cluster', V2, '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const [, row] = rows(r.stdout);
    assert.deepEqual(
      row?.slice(0, 7),
      ['127.0.40.3:9080', 'HEALTHY', 'FAILED', V2, 'reviews-v2', '-', '1'],
      r.stdout,
    );
    const until = Date.parse(row?.[7] ?? '');
    assert.ok(until > Date.now() + 50_000, `want ejected for about 60s, until ${row?.[7]}`);
    const other = await pc(['endpoints', '--observed', 'ejected']);
    assert.equal(
      rows(other.stdout).length,
      2,
      `want only the v2 subset's endpoint ejected:\n${other.stdout}`,
    );
    const clusters = JSON.parse((await pc(['clusters', '--subset', 'v2', '-o', 'json'])).stdout) as {
      clusters: ClusterView[];
    };
    assert.equal(clusters.clusters[0]?.outlier.ejected[0]?.type, 'CONSECUTIVE_5XX');
    assert.deepEqual(clusters.clusters[0]?.endpoints, { total: 1, healthy: 0 });
    const e = await alder([
      'explain',
      '--admin',
      m.clientAdmin,
      '-H',
      'end-user: jason',
      'http://reviews:9080/',
    ]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(
      e.stdout,
      /\nendpoints {5}1 \(0 healthy, 1 ejected\): 127\.0\.40\.3:9080 reviews-v2 \(EJECTED until \S+Z \(outlier detection: 3 consecutive 5xx responses or connect failures\); last failure at \S+Z: 503 response\)\n/,
      e.stdout,
    );
  });
});
