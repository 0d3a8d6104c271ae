// Micro-benchmark of route selection (not a test): select() over one virtual host of 1,000 routes,
// and host lookup + select() over 1,000 virtual hosts. Prints ns per lookup.
// Run: node_modules/.bin/node src/proxy/routing/select.bench.ts

import type { ProxyIdentity, Route, RouteMatch, VirtualHost } from '../../wire/index.ts';
import { type CompiledVirtualHost, compileVirtualHost } from './compile-virtual-host.ts';
import type { RouteRequest } from './route-request.ts';

const SELF: ProxyIdentity = {
  namespace: 'default',
  workload: 'bench',
  serviceAccount: 'bench',
  spiffeId: 'spiffe://cluster.local/ns/default/sa/bench',
  address: '10.0.0.1',
  labels: { app: 'bench' },
  locality: '',
};

/** Route i: a uri prefix, and for every third a header, every fifth a method, every seventh a regex. */
function routeAt(i: number): Route {
  const m: RouteMatch = { uri: i % 7 === 0 ? { regex: `/svc${i}/v[0-9]+/.*` } : { prefix: `/svc${i}/` } };
  if (i % 3 === 0) m.headers = [{ name: 'x-tenant', value: { exact: `t${i}` }, isInverted: false }];
  if (i % 5 === 0) m.method = { exact: 'GET' };
  return {
    name: `r${i}`,
    origin: { kind: 'VirtualService', virtualServices: ['default/bench'], paths: [`http[${i}]`] },
    matches: [m],
    action: { kind: 'forward', destinations: [{ cluster: `c${i}`, weight: 100, host: 'bench' }] },
  };
}

function vhostOf(name: string, routes: Route[]): VirtualHost {
  return { name, domains: [name], traffic: 'http', routes, tcpRoutes: [] };
}

function request(i: number, authority = 'bench:80'): RouteRequest {
  const path = i % 7 === 0 ? `/svc${i}/v1/items?id=7` : `/svc${i}/items?id=7`;
  return {
    method: 'GET',
    path,
    authority,
    scheme: 'http',
    port: 80,
    headers: ['host', authority, 'user-agent', 'bench', 'accept', '*/*', 'x-tenant', `t${i}`],
  };
}

/** ns per call of `fn` over `reqs`, best of 5 runs after a warm-up. */
function measure(reqs: RouteRequest[], fn: (r: RouteRequest) => unknown, rounds: number): number {
  let sink = 0;
  const run = () => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < rounds; k++) for (const r of reqs) if (fn(r) !== undefined) sink++;
    return Number(process.hrtime.bigint() - t0) / (rounds * reqs.length);
  };
  run();
  const best = Math.min(run(), run(), run(), run(), run());
  if (sink < 0) console.log(sink);
  return best;
}

function oneHost(): void {
  const vh = compileVirtualHost(
    vhostOf(
      'bench:80',
      Array.from({ length: 1000 }, (_, i) => routeAt(i)),
    ),
    SELF,
  );
  const at = (i: number) => [request(i)];
  const rows: [string, RouteRequest[]][] = [
    ['route 1 (near the top)', at(1)],
    ['route 500 (middle)', at(500)],
    ['route 999 (last)', at(999)],
    ['no route matches', [{ ...request(1), path: '/nowhere' }]],
    ['uniform over all 1,000', Array.from({ length: 1000 }, (_, i) => request(i))],
  ];
  console.log('1 virtual host, 1,000 routes:');
  for (const [name, reqs] of rows) {
    const ns = measure(reqs, (r) => vh.select(r), Math.ceil(200_000 / reqs.length));
    console.log(`  ${name.padEnd(26)} ${ns.toFixed(0).padStart(7)} ns/lookup`);
  }
}

function manyHosts(): void {
  const hosts = new Map<string, CompiledVirtualHost>();
  for (let h = 0; h < 1000; h++) {
    const name = `svc${h}.default.svc.cluster.local:80`;
    const routes = [routeAt(1), routeAt(2), routeAt(4), routeAt(3), { ...routeAt(8), matches: [] }];
    hosts.set(name, compileVirtualHost(vhostOf(name, routes), SELF));
  }
  const reqs = Array.from({ length: 1000 }, (_, h) =>
    request([1, 2, 4, 3, 9][h % 5] as number, `svc${h}.default.svc.cluster.local:80`),
  );
  const ns = measure(reqs, (r) => hosts.get(r.authority)?.select(r), 200);
  console.log('1,000 virtual hosts, 5 routes each:');
  console.log(`  ${'host lookup + select'.padEnd(26)} ${ns.toFixed(0).padStart(7)} ns/lookup`);
}

/** Where the segment index starts to pay: uniform lookups over n routes, scan vs index. */
function crossover(): void {
  console.log('scan vs segment index, uniform over n routes (sets INDEX_MIN_CANDIDATES):');
  for (const n of [2, 4, 8, 16, 32, 64]) {
    const v = vhostOf(
      'bench:80',
      Array.from({ length: n }, (_, i) => routeAt(i)),
    );
    const scan = compileVirtualHost(v, SELF, { indexMinCandidates: Number.POSITIVE_INFINITY });
    const indexed = compileVirtualHost(v, SELF, { indexMinCandidates: 0 });
    const reqs = Array.from({ length: n }, (_, i) => request(i));
    const rounds = Math.ceil(200_000 / n);
    const a = measure(reqs, (r) => scan.select(r), rounds);
    const b = measure(reqs, (r) => indexed.select(r), rounds);
    console.log(
      `  n=${String(n).padEnd(3)} scan ${a.toFixed(0).padStart(5)} ns   index ${b.toFixed(0).padStart(5)} ns`,
    );
  }
}

oneHost();
manyHosts();
crossover();
