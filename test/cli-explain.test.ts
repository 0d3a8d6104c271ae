// `alder explain` against real traffic: each request of the table goes through productpage's proxy
// to apps that say which workload answered, and both `explain --admin` (the running proxy) and
// `explain --config DIR --from shop/productpage` (compiled here) must print the same explanation,
// naming the subset whose workload answered and why every other route did not match.
// Mesh: productpage 127.0.40.11 → reviews-v1/v2/v3 (127.0.40.12-14), ratings-v1 (127.0.40.15).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AppMesh, startAppMesh } from './cli-mesh-fixture.ts';
import { alder } from './harness.ts';

const YAML = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - name: jason-v3
    match:
    - headers: {end-user: {exact: jason}}
    route: [{destination: {host: reviews, subset: v3}}]
  - name: api-writes
    match:
    - uri: {prefix: /api/}
      method: {exact: POST}
    - name: items
      uri: {regex: '/items/[0-9]+'}
    route: [{destination: {host: reviews, subset: v2}}]
    timeout: 5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}
  - name: canary
    match:
    - queryParams: {canary: {exact: "1"}}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 70}
    - {destination: {host: reviews, subset: v2}, weight: 30}
  - name: gold
    match:
    - headers: {x-tenant: {prefix: gold-}}
    - uri: {exact: /beta}
    route: [{destination: {host: reviews, subset: v3}}]
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings]
  http:
  - match: [{uri: {prefix: /ratings}}]
    route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {connectionPool: {http: {http1MaxPendingRequests: 10}}}
  - name: v3
    labels: {version: v3}
`;

interface Case {
  name: string;
  method?: string;
  url: string;
  headers?: Record<string, string>;
  /** Who answers: the subset (undefined: the service itself) and its workload, or the proxy itself. */
  want: { subset: string | undefined; workload: string } | { status: number; flag: string };
  /** The route line after its label, spaces collapsed. */
  route: string;
  /** Lines about the routes not taken, spaces collapsed (each must appear). */
  others: string[];
}

const CASES: Case[] = [
  {
    name: 'a header match sends jason to v3',
    url: 'http://reviews:9080/',
    headers: { 'end-user': 'jason' },
    want: { subset: 'v3', workload: 'reviews-v3' },
    route: 'VirtualService shop/reviews http[0] "jason-v3" ← matched (headers end-user exact "jason")',
    others: [
      'http[1] "api-writes" not reached (an earlier route matched)',
      'http[4] not reached (an earlier route matched)',
    ],
  },
  {
    name: 'another end-user falls through to the default route (v1)',
    url: 'http://reviews:9080/',
    headers: { 'end-user': 'bob' },
    want: { subset: 'v1', workload: 'reviews-v1' },
    route: 'VirtualService shop/reviews http[4] ← matched (every request)',
    others: [
      'http[0] "jason-v3" header end-user: "bob" is not "jason"',
      'http[1] "api-writes" match[0]: uri: "/api/" is not a prefix of "/"',
      'match[1] "items": uri: "/" does not match regex "/items/[0-9]+"',
      'http[2] "canary" queryParams canary: missing (want exact "1")',
      'http[3] "gold" match[0]: header x-tenant: missing (want prefix "gold-")',
      'match[1]: uri: "/" is not "/beta"',
    ],
  },
  {
    name: 'a POST under /api/ goes to v2 by the first match block',
    method: 'POST',
    url: 'http://reviews:9080/api/reviews',
    want: { subset: 'v2', workload: 'reviews-v2' },
    route:
      'VirtualService shop/reviews http[1] "api-writes" ← matched by match[0] (uri prefix "/api/", method exact "POST")',
    others: ['http[0] "jason-v3" header end-user: missing (want exact "jason")'],
  },
  {
    name: 'a GET under /api/ fails the method and falls through to v1',
    url: 'http://reviews:9080/api/reviews',
    want: { subset: 'v1', workload: 'reviews-v1' },
    route: 'VirtualService shop/reviews http[4] ← matched (every request)',
    others: [
      'http[1] "api-writes" match[0]: method: "GET" is not "POST"',
      'match[1] "items": uri: "/api/reviews" does not match regex "/items/[0-9]+"',
    ],
  },
  {
    name: 'a regex uri match goes to v2 by the named block',
    url: 'http://reviews:9080/items/42?full=1',
    want: { subset: 'v2', workload: 'reviews-v2' },
    route:
      'VirtualService shop/reviews http[1] "api-writes" ← matched by match[1] "items" (uri regex "/items/[0-9]+")',
    others: ['http[2] "canary" not reached (an earlier route matched)'],
  },
  {
    name: 'a PUT to a non-numeric item fails both blocks and goes to v1',
    method: 'PUT',
    url: 'http://reviews.shop:9080/items/abc',
    want: { subset: 'v1', workload: 'reviews-v1' },
    route: 'VirtualService shop/reviews http[4] ← matched (every request)',
    others: [
      'http[1] "api-writes" match[0]: uri: "/api/" is not a prefix of "/items/abc"',
      'match[1] "items": uri: "/items/abc" does not match regex "/items/[0-9]+"',
    ],
  },
  {
    name: 'a header prefix match sends a gold tenant to v3',
    url: 'http://reviews:9080/x',
    headers: { 'x-tenant': 'gold-7' },
    want: { subset: 'v3', workload: 'reviews-v3' },
    route:
      'VirtualService shop/reviews http[3] "gold" ← matched by match[0] (headers x-tenant prefix "gold-")',
    others: ['http[2] "canary" queryParams canary: missing (want exact "1")'],
  },
  {
    name: 'an exact uri match sends /beta to v3 by the second block',
    url: 'http://reviews.shop.svc.cluster.local:9080/beta',
    want: { subset: 'v3', workload: 'reviews-v3' },
    route: 'VirtualService shop/reviews http[3] "gold" ← matched by match[1] (uri exact "/beta")',
    others: ['http[4] not reached (an earlier route matched)'],
  },
  {
    name: 'a dot segment: the normalized path /beta is what routes match, and the explanation says so',
    url: 'http://reviews:9080/x/%2E./beta',
    want: { subset: 'v3', workload: 'reviews-v3' },
    route: 'VirtualService shop/reviews http[3] "gold" ← matched by match[1] (uri exact "/beta")',
    others: ['path /beta (normalized: routes match it, the app receives it)'],
  },
  {
    name: 'a silver tenant fails the prefix and goes to v1',
    method: 'DELETE',
    url: 'http://reviews:9080/x',
    headers: { 'x-tenant': 'silver-1' },
    want: { subset: 'v1', workload: 'reviews-v1' },
    route: 'VirtualService shop/reviews http[4] ← matched (every request)',
    others: [
      'http[3] "gold" match[0]: header x-tenant: "gold-" is not a prefix of "silver-1"',
      'match[1]: uri: "/x" is not "/beta"',
    ],
  },
  {
    name: 'a service without a DestinationRule: its own cluster, no subset',
    url: 'http://ratings:9080/ratings/1',
    want: { subset: undefined, workload: 'ratings-v1' },
    route: 'VirtualService shop/ratings http[0] ← matched (uri prefix "/ratings")',
    others: [],
  },
  {
    name: 'no route matches: 404 NR, and why not',
    url: 'http://ratings:9080/other',
    want: { status: 404, flag: 'NR' },
    route: 'none matched: the proxy answers 404 (flag NR)',
    others: ['http[0] uri: "/ratings" is not a prefix of "/other"'],
  },
];

/** The explanation's lines, spaces collapsed (labels are padded to columns). */
function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
}

/** The text after a label (`route`, `destination` …) on each line that has it. */
function field(text: string, label: string): string[] {
  return lines(text)
    .filter((l) => l.startsWith(`${label} `))
    .map((l) => l.slice(label.length + 1));
}

describe('alder explain: what the proxy does, and why, for real requests', () => {
  let m: AppMesh;
  const explainBoth = async (args: string[]) => {
    const [admin, local] = await Promise.all([
      alder(['explain', '--admin', m.clientAdmin, ...args]),
      alder(['explain', '--config', m.mesh.configDir, '--from', 'shop/productpage', ...args]),
    ]);
    assert.equal(admin.code, 0, `explain --admin ${args.join(' ')}: ${admin.stderr}`);
    assert.equal(local.code, 0, `explain --config ${args.join(' ')}: ${local.stderr}`);
    return { admin: admin.stdout, local: local.stdout, notice: local.stderr };
  };

  before(async () => {
    m = await startAppMesh({
      prefix: 'explain',
      client: { name: 'productpage', address: '127.0.40.11' },
      servers: [
        { name: 'reviews-v1', address: '127.0.40.12', labels: { app: 'reviews', version: 'v1' } },
        { name: 'reviews-v2', address: '127.0.40.13', labels: { app: 'reviews', version: 'v2' } },
        { name: 'reviews-v3', address: '127.0.40.14', labels: { app: 'reviews', version: 'v3' } },
        { name: 'ratings-v1', address: '127.0.40.15', labels: { app: 'ratings', version: 'v1' } },
      ],
      port: 9080,
      yaml: YAML,
    });
  });

  after(async () => {
    await m?.stop();
  });

  for (const c of CASES) {
    it(`explain: ${c.name}`, async () => {
      const method = c.method ?? 'GET';
      const headers = c.headers ?? {};
      const reply = await m.send(c.url, { method, headers });
      const args = [
        ...['-X', method],
        ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
        c.url,
      ];
      const { admin, local, notice } = await explainBoth(args);
      assert.equal(local, admin, 'want --config to print what the running proxy (--admin) prints');
      assert.match(notice, /^notice: compiled .* for shop\/productpage; no live state here/);
      assert.equal(lines(admin)[0], `${method} ${c.url} (from shop/productpage)`);
      assert.deepEqual(field(admin, 'route'), [c.route], admin);
      const others = lines(admin);
      for (const want of c.others)
        assert.ok(others.includes(want), `want the line ${JSON.stringify(want)} in:\n${admin}`);
      if ('workload' in c.want) {
        assert.deepEqual(
          [reply.status, reply.workload],
          [200, c.want.workload],
          `${method} ${c.url}: want ${c.want.workload} to answer; got ${reply.status} ${reply.body}`,
        );
        const [destination, ...more] = field(admin, 'destination');
        assert.equal(more.length, 0, `want one destination:\n${admin}`);
        const subset = /subset (\S+)/.exec(destination ?? '')?.[1];
        assert.equal(subset, c.want.subset, `want the subset whose workload answered:\n${admin}`);
        assert.match(destination ?? '', /\(weight 100 of 100\) → cluster outbound\|9080\|/);
        const [endpoints] = field(admin, 'endpoints');
        assert.match(
          endpoints ?? '',
          new RegExp(`^1 \\(1 healthy\\): 127\\.0\\.40\\.\\d+:9080 ${reply.workload}$`),
          admin,
        );
      } else {
        assert.deepEqual([reply.status, reply.flags], [c.want.status, c.want.flag], reply.body);
        assert.deepEqual(field(admin, 'destination'), []);
      }
    });
  }

  it('explain: a weighted split lists both subsets with their weights, and the answer came from one', async () => {
    const url = 'http://reviews:9080/?canary=1';
    const reply = await m.send(url);
    assert.ok(['reviews-v1', 'reviews-v2'].includes(reply.workload ?? ''), `got ${reply.workload}`);
    const { admin, local } = await explainBoth([url]);
    assert.equal(local, admin);
    assert.deepEqual(field(admin, 'route'), [
      'VirtualService shop/reviews http[2] "canary" ← matched (queryParams canary exact "1")',
    ]);
    assert.deepEqual(field(admin, 'destination'), [
      'reviews.shop.svc.cluster.local:9080 subset v1 (weight 70 of 100) → cluster outbound|9080|v1|reviews.shop.svc.cluster.local',
      'reviews.shop.svc.cluster.local:9080 subset v2 (weight 30 of 100) → cluster outbound|9080|v2|reviews.shop.svc.cluster.local',
    ]);
    assert.deepEqual(field(admin, 'policy'), [
      'DestinationRule shop/reviews (trafficPolicy): LEAST_REQUEST, outlier 5×5xx / 10s (eject 30s, max 10%), mTLS ISTIO_MUTUAL',
      'DestinationRule shop/reviews (trafficPolicy, subsets[v2]): LEAST_REQUEST, maxPendingRequests 10, outlier 5×5xx / 10s (eject 30s, max 10%), mTLS ISTIO_MUTUAL',
    ]);
  });

  it('explain: the chosen route’s policies — retries, per-try and overall timeouts', async () => {
    const { admin } = await explainBoth(['-X', 'POST', 'http://reviews:9080/api/x']);
    assert.deepEqual(field(admin, 'retries'), ['3 attempts on 5xx, per try 2s; timeout 5s']);
  });

  it('explain: a host outside the registry is NR (502), before any route', async () => {
    const url = 'http://nowhere.shop:9080/';
    const reply = await m.send(url);
    assert.deepEqual([reply.status, reply.flags], [502, 'NR'], reply.body);
    const { admin, local } = await explainBoth([url]);
    assert.equal(local, admin);
    assert.deepEqual(field(admin, 'virtual host'), [
      'none: nowhere.shop:9080 is not in the mesh registry (outboundTrafficPolicy REGISTRY_ONLY); the proxy answers 502 (flag NR)',
    ]);
  });

  it('explain: a path that cannot be normalized is refused (400 DPE) before any host or route', async () => {
    const url = 'http://reviews:9080/a%00';
    const reply = await m.send(url);
    assert.deepEqual([reply.status, reply.flags], [400, 'DPE'], `want 400 DPE, got: ${reply.body}`);
    const { admin, local } = await explainBoth([url]);
    assert.equal(local, admin, 'want --config to print what the running proxy (--admin) prints');
    assert.deepEqual(field(admin, 'path'), [
      'refused: the path holds %00, an encoded NUL, which no path may carry (MeshConfig pathNormalization BASE); the proxy answers 400 (flag DPE)',
    ]);
    assert.deepEqual(field(admin, 'route'), [], `want no route line:\n${admin}`);
  });

  it('explain -o json: the same document from the running proxy and from the folder', async () => {
    const args = ['-o', 'json', '-H', 'End-User: jason', 'http://reviews:9080/'];
    const { admin, local } = await explainBoth(args);
    const doc = JSON.parse(admin) as {
      outcome: { kind: string };
      route: { name: string; matchIndex: number };
      destinations: {
        subset: string;
        cluster: string;
        endpoints: { workload: string; observed: { state: string; lastSuccess?: string } }[];
      }[];
      request: { headers: [string, string][] };
    };
    // Live state apart: the running proxy has seen the earlier requests succeed, the folder nothing.
    const seen = doc.destinations[0]?.endpoints[0]?.observed;
    assert.equal(seen?.state, 'HEALTHY');
    assert.ok(seen?.lastSuccess !== undefined, 'want the running proxy to remember the last success');
    delete seen.lastSuccess;
    assert.deepEqual(JSON.parse(local), doc);
    assert.equal(doc.outcome.kind, 'forward');
    assert.deepEqual([doc.route.name, doc.route.matchIndex], ['jason-v3', 0]);
    assert.deepEqual(doc.request.headers, [['end-user', 'jason']]);
    assert.deepEqual(
      doc.destinations.map((d) => [d.subset, d.endpoints.map((e) => e.workload)]),
      [['v3', ['reviews-v3']]],
    );
  });

  it('explain: usage mistakes exit 2, config problems exit 1, each with a hint', async () => {
    const usage = [
      [],
      ['reviews:9080/'],
      ['--config', m.mesh.configDir, 'http://reviews:9080/'],
      ['--from', 'shop/productpage', 'http://reviews:9080/'],
      ['--admin', m.clientAdmin, '--config', m.mesh.configDir, '--from', 'shop/x', 'http://reviews:9080/'],
      ['-H', 'no-colon', 'http://reviews:9080/'],
      ['-o', 'yaml', 'http://reviews:9080/'],
    ];
    for (const args of usage) {
      const r = await alder(['explain', ...args]);
      assert.equal(r.code, 2, `explain ${args.join(' ')}: want exit 2, got ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^error: .*\nhint: run `alder explain --help` for usage\n$/);
    }
    const unknown = await alder([
      'explain',
      '--config',
      m.mesh.configDir,
      '--from',
      'shop/nobody',
      'http://reviews:9080/',
    ]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /error: no WorkloadEntry shop\/nobody .*\nhint: --from names the WorkloadEntry/,
    );
    const table = await alder([
      'explain',
      '--admin',
      m.clientAdmin,
      '--route-table',
      'nope',
      'http://reviews:9080/',
    ]);
    assert.equal(table.code, 1);
    assert.match(
      table.stderr,
      /error: proxy admin http:\/\/127\.0\.0\.1:\d+: no route table "nope"\nhint: this proxy has: outbound/,
    );
    const help = await alder(['explain', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--from NS\/WORKLOAD/);
  });
});
