// Table tests of createBalancer: each policy's distribution, slow start, locality priorities and
// failover, distribute, the panic threshold, carry-over between snapshot versions, and refusals.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, LoadBalancer } from '../../wire/index.ts';
import { type Balancer, createBalancer } from './balancer.ts';
import { createOutlierDetector, type OutlierDetector } from './outlier-detector.ts';
import {
  cluster,
  endpoint,
  endpoints,
  manualClock,
  outlierConfig,
  seededRandom,
  tally,
} from './test-support.ts';

const SELF = { locality: 'us-east/a/1', labels: {} };

function addressOf(b: Balancer, hashKey?: string): string {
  const r = b.pick(hashKey === undefined ? undefined : { hashKey });
  return r.kind === 'endpoint' ? r.endpoint.address : r.kind;
}

function share(counts: Map<string, number>, address: string, n: number): number {
  return (counts.get(address) ?? 0) / n;
}

/** An outlier detector that ejects on the first 5xx; `eject` reports one for each address. */
function ejector(minHealthPercent = 0): { outlier: OutlierDetector; eject(eps: Endpoint[]): void } {
  const outlier = createOutlierDetector(outlierConfig({ consecutive5xxErrors: 1, minHealthPercent }), {
    now: () => 0,
  });
  return {
    outlier,
    eject: (eps) => {
      for (const e of eps) outlier.report(e, { kind: 'response', status: 500 });
    },
  };
}

const rrSequences: { name: string; weights: number[]; want: string }[] = [
  { name: 'equal weights rotate in endpoint order', weights: [1, 1, 1], want: 'abcabcabc' },
  { name: 'weights 5/1/1 interleave smoothly', weights: [5, 1, 1], want: 'aabacaaaabacaa' },
  { name: 'weights 2/1 repeat a b a', weights: [2, 1], want: 'abaaba' },
  { name: 'a weight below 1 counts as 1', weights: [0, 1], want: 'abab' },
  { name: 'weights 1000/500 cycle like 2/1', weights: [1000, 500], want: 'abaaba' },
];
for (const c of rrSequences) {
  test(`balancer: ROUND_ROBIN sequence when ${c.name}`, () => {
    const eps = c.weights.map((weight, i) => endpoint('abc'[i]!, { weight }));
    // random 0: the cycle starts at its beginning (a real random source starts anywhere in it).
    const b = createBalancer(cluster({ kind: 'ROUND_ROBIN' }, eps), SELF, { now: () => 0, random: () => 0 });
    const got = Array.from(c.want, () => addressOf(b)).join('');
    assert.equal(got, c.want, `weights ${c.weights.join('/')}: want ${c.want}, got ${got}`);
  });
}

test('balancer: LEAST_REQUEST prefers the idle endpoint (power of two choices, 19% ± 1.5 of 10)', () => {
  const eps = endpoints(10);
  const b = createBalancer(cluster({ kind: 'LEAST_REQUEST' }, eps), SELF, {
    now: () => 0,
    random: seededRandom(7),
  });
  for (const e of eps.slice(1)) for (let i = 0; i < 5; i++) b.onStart(e);
  const n = 20_000;
  const counts = tally(n, () => addressOf(b));
  // The idle one wins whenever either of two samples hits it: 1 − 0.9² = 0.19 (uniform would be 0.10).
  const idle = share(counts, eps[0]!.address, n);
  assert.ok(Math.abs(idle - 0.19) < 0.015, `idle endpoint's share: want 0.19 ± 0.015, got ${idle}`);
});

test('balancer: LEAST_REQUEST with weights divides each weight by active requests + 1', () => {
  const eps = [endpoint('a', { weight: 2 }), endpoint('b', { weight: 1 })];
  const b = createBalancer(cluster({ kind: 'LEAST_REQUEST' }, eps), SELF, {
    now: () => 0,
    random: Math.random,
  });
  for (let i = 0; i < 3; i++) b.onStart(eps[0]!);
  // a: 2 / 4 = 0.5, b: 1 / 1 = 1 → b takes two picks in three.
  const counts = tally(300, () => addressOf(b));
  assert.deepEqual([counts.get('a'), counts.get('b')], [100, 200]);
  for (let i = 0; i < 3; i++) b.onEnd(eps[0]!);
  const after = tally(300, () => addressOf(b));
  assert.deepEqual([after.get('a'), after.get('b')], [200, 100], 'after onEnd the weights are 2:1 again');
});

test('balancer: RANDOM spreads evenly (each of 4 within 25% ± 1.5, seeded)', () => {
  const eps = endpoints(4);
  const b = createBalancer(cluster({ kind: 'RANDOM' }, eps), SELF, {
    now: () => 0,
    random: seededRandom(42),
  });
  const n = 40_000;
  const counts = tally(n, () => addressOf(b));
  for (const e of eps) {
    const s = share(counts, e.address, n);
    assert.ok(Math.abs(s - 0.25) < 0.015, `${e.address}: want 0.25 ± 0.015, got ${s}`);
  }
});

const warmupCases: { name: string; elapsedMs: number; want: number }[] = [
  { name: 'just added: the 10% floor', elapsedMs: 0, want: 0.1 / 1.1 },
  { name: 'a quarter in', elapsedMs: 2_500, want: 0.25 / 1.25 },
  { name: 'half way', elapsedMs: 5_000, want: 0.5 / 1.5 },
  { name: 'nine tenths in', elapsedMs: 9_000, want: 0.9 / 1.9 },
  { name: 'window over', elapsedMs: 10_000, want: 0.5 },
];
for (const c of warmupCases) {
  test(`balancer: slow start ramps a new endpoint linearly (${c.name})`, () => {
    const clock = manualClock();
    const lb: LoadBalancer = { kind: 'ROUND_ROBIN', warmupMs: 10_000 };
    const deps = { now: clock.now, random: Math.random };
    const old = createBalancer(cluster(lb, [endpoint('old')]), SELF, deps);
    clock.advance(60_000);
    const added = createBalancer(cluster(lb, [endpoint('old'), endpoint('new')]), SELF, {
      ...deps,
      previous: old,
    });
    clock.advance(c.elapsedMs);
    const b = createBalancer(cluster(lb, [endpoint('old'), endpoint('new')]), SELF, {
      ...deps,
      previous: added,
    });
    const n = 1_900;
    const got = share(
      tally(n, () => addressOf(b)),
      'new',
      n,
    );
    assert.ok(Math.abs(got - c.want) < 0.005, `new endpoint's share: want ${c.want.toFixed(4)}, got ${got}`);
  });
}

test('balancer: PASSTHROUGH tells the caller to dial the original destination', () => {
  const b = createBalancer(cluster({ kind: 'PASSTHROUGH' }, []), SELF, { now: () => 0, random: Math.random });
  assert.deepEqual(b.pick(), { kind: 'passthrough' });
});

test('balancer: a cluster without endpoints answers none with the reason', () => {
  const b = createBalancer(cluster({ kind: 'ROUND_ROBIN' }, []), SELF, { now: () => 0, random: Math.random });
  const r = b.pick();
  assert.equal(r.kind, 'none');
  assert.equal(r.kind === 'none' && r.reason, 'no-endpoints');
  assert.match(r.kind === 'none' ? r.message : '', /^cluster outbound\|9080\|\|reviews.*: no endpoints$/);
});

const proximity = [
  endpoint('same-subzone', { locality: 'us-east/a/1' }),
  endpoint('same-zone', { locality: 'us-east/a/2' }),
  endpoint('same-region', { locality: 'us-east/b/1' }),
  endpoint('elsewhere', { locality: 'eu-west/a/1' }),
];
const priorityCases: { name: string; ejected: string[]; want: string }[] = [
  { name: 'all healthy: the same subzone only', ejected: [], want: 'same-subzone' },
  { name: 'same subzone ejected: the same zone', ejected: ['same-subzone'], want: 'same-zone' },
  { name: 'zone gone: the same region', ejected: ['same-subzone', 'same-zone'], want: 'same-region' },
  {
    name: 'region gone: another region',
    ejected: ['same-subzone', 'same-zone', 'same-region'],
    want: 'elsewhere',
  },
];
for (const c of priorityCases) {
  test(`balancer: locality priority goes to the nearest healthy endpoints (${c.name})`, () => {
    const { outlier, eject } = ejector();
    const lb: LoadBalancer = { kind: 'ROUND_ROBIN', locality: {} };
    const b = createBalancer(cluster(lb, proximity), SELF, {
      now: () => 0,
      random: seededRandom(1),
      outlier,
    });
    eject(proximity.filter((e) => c.ejected.includes(e.address)));
    const counts = tally(200, () => addressOf(b));
    assert.deepEqual([...counts], [[c.want, 200]]);
  });
}

test('balancer: a partly ejected priority spills over by the 1.4 overprovisioning factor (70/30)', () => {
  const eps = [
    endpoint('p0-a', { locality: 'us-east/a/1' }),
    endpoint('p0-b', { locality: 'us-east/a/1' }),
    endpoint('p1', { locality: 'us-east/b/1' }),
  ];
  const { outlier, eject } = ejector();
  const lb: LoadBalancer = { kind: 'ROUND_ROBIN', locality: {} };
  const b = createBalancer(cluster(lb, eps), SELF, { now: () => 0, random: seededRandom(3), outlier });
  eject([eps[0]!]);
  const n = 20_000;
  const counts = tally(n, () => addressOf(b));
  // P0 health = min(100, 1.4 × 50%) = 70 → 70% stays, 30% goes to P1.
  assert.ok(
    Math.abs(share(counts, 'p0-b', n) - 0.7) < 0.015,
    `p0-b: want 0.70, got ${share(counts, 'p0-b', n)}`,
  );
  assert.ok(Math.abs(share(counts, 'p1', n) - 0.3) < 0.015, `p1: want 0.30, got ${share(counts, 'p1', n)}`);
  assert.equal(counts.get('p0-a'), undefined, 'the ejected endpoint gets nothing');
  assert.deepEqual(
    b.describe().priorities.map((p) => [p.priority, p.healthy, p.loadPercent, p.isPanic]),
    [
      [0, 1, 70, false],
      [1, 1, 30, false],
    ],
  );
});

test('balancer: explicit failover sends a lost region to its `to` region before any other', () => {
  const eps = [
    endpoint('home', { locality: 'us-east/a/1' }),
    endpoint('other', { locality: 'eu-west/a/1' }),
    endpoint('target', { locality: 'ap-south/a/1' }),
  ];
  const { outlier, eject } = ejector();
  const lb: LoadBalancer = {
    kind: 'ROUND_ROBIN',
    locality: { failover: [{ from: 'us-east', to: 'ap-south' }] },
  };
  const b = createBalancer(cluster(lb, eps), SELF, { now: () => 0, random: seededRandom(1), outlier });
  assert.deepEqual(
    b.describe().priorities.map((p) => p.endpoints),
    [['home:9080'], ['target:9080'], ['other:9080']],
  );
  eject([eps[0]!]);
  assert.deepEqual([...tally(100, () => addressOf(b))], [['target', 100]]);
});

test('balancer: failoverPriority ranks endpoints by matching labels in order', () => {
  const self = { locality: '', labels: { network: 'n1', version: 'v1' } };
  const eps = [
    endpoint('none', { labels: { network: 'n2', version: 'v1' } }),
    endpoint('network-only', { labels: { network: 'n1', version: 'v2' } }),
    endpoint('both', { labels: { network: 'n1', version: 'v1' } }),
  ];
  const lb: LoadBalancer = { kind: 'ROUND_ROBIN', locality: { failoverPriority: ['network', 'version'] } };
  const b = createBalancer(cluster(lb, eps), self, { now: () => 0, random: Math.random });
  assert.deepEqual(
    b.describe().priorities.map((p) => p.endpoints),
    [['both:9080'], ['network-only:9080'], ['none:9080']],
  );
  assert.equal(addressOf(b), 'both');
});

test('balancer: distribute splits traffic by locality weight and drops unlisted localities', () => {
  const eps = [
    endpoint('a1', { locality: 'us-east/a/1' }),
    endpoint('a2', { locality: 'us-east/a/2' }),
    endpoint('b1', { locality: 'us-east/b/1' }),
    endpoint('x', { locality: 'eu-west/a/1' }),
  ];
  const lb: LoadBalancer = {
    kind: 'ROUND_ROBIN',
    locality: { distribute: [{ from: 'us-east/a/*', to: { 'us-east/a/*': 80, 'us-east/b/*': 20 } }] },
  };
  const b = createBalancer(cluster(lb, eps), SELF, { now: () => 0, random: Math.random });
  const counts = tally(1000, () => addressOf(b));
  // us-east/a/* claims two localities of one endpoint each: 40 and 40; us-east/b/1 gets 20.
  assert.deepEqual(
    [counts.get('a1'), counts.get('a2'), counts.get('b1'), counts.get('x')],
    [400, 400, 200, undefined],
  );
  assert.deepEqual(b.describe().excluded, ['x:9080']);
});

const panicCases: {
  name: string;
  minHealthPercent: number;
  ejected: number;
  want: string[];
  isPanic: boolean;
}[] = [
  {
    name: 'threshold 0: only the healthy endpoint',
    minHealthPercent: 0,
    ejected: 3,
    want: ['e3'],
    isPanic: false,
  },
  {
    name: 'threshold 50, 25% healthy: panic, all four',
    minHealthPercent: 50,
    ejected: 3,
    want: ['e0', 'e1', 'e2', 'e3'],
    isPanic: true,
  },
  {
    name: 'threshold 50, 75% healthy: no panic',
    minHealthPercent: 50,
    ejected: 1,
    want: ['e1', 'e2', 'e3'],
    isPanic: false,
  },
  {
    name: 'threshold 50, none healthy: panic, all four',
    minHealthPercent: 50,
    ejected: 4,
    want: ['e0', 'e1', 'e2', 'e3'],
    isPanic: true,
  },
  {
    name: 'threshold 0, none healthy: no endpoint',
    minHealthPercent: 0,
    ejected: 4,
    want: ['none'],
    isPanic: false,
  },
];
for (const c of panicCases) {
  test(`balancer: minHealthPercent is Envoy's panic threshold (${c.name})`, () => {
    const eps = ['e0', 'e1', 'e2', 'e3'].map((a) => endpoint(a));
    const { outlier, eject } = ejector(c.minHealthPercent);
    const od = outlierConfig({ consecutive5xxErrors: 1, minHealthPercent: c.minHealthPercent });
    const b = createBalancer(cluster({ kind: 'ROUND_ROBIN' }, eps, od), SELF, {
      now: () => 0,
      random: Math.random,
      outlier,
    });
    eject(eps.slice(0, c.ejected));
    const picks = Array.from({ length: 8 }, () => b.pick());
    assert.deepEqual(
      [...new Set(picks.map((p) => (p.kind === 'endpoint' ? p.endpoint.address : p.kind)))].sort(),
      c.want,
    );
    assert.equal(
      picks.some((p) => p.kind === 'endpoint' && p.isPanic),
      c.isPanic,
    );
    if (c.want[0] === 'none') assert.equal(picks[0]!.kind === 'none' && picks[0]!.reason, 'all-ejected');
  });
}

test('balancer: in-flight counts carry over to the next snapshot version by address:port', () => {
  const lb: LoadBalancer = { kind: 'LEAST_REQUEST' };
  const deps = { now: () => 0, random: seededRandom(5) };
  const v1 = createBalancer(cluster(lb, endpoints(2)), SELF, deps);
  const busy = v1.cluster.endpoints[0]!;
  for (let i = 0; i < 4; i++) v1.onStart(busy);
  const v2 = createBalancer(cluster(lb, endpoints(2)), SELF, { ...deps, previous: v1 });
  const n = 10_000;
  // Two endpoints, one busy: it is kept only when both samples land on it (25%).
  const before = share(
    tally(n, () => addressOf(v2)),
    busy.address,
    n,
  );
  assert.ok(Math.abs(before - 0.25) < 0.02, `busy endpoint under v2: want 0.25, got ${before}`);
  for (let i = 0; i < 4; i++) v1.onEnd(busy);
  const after = share(
    tally(n, () => addressOf(v2)),
    busy.address,
    n,
  );
  assert.ok(Math.abs(after - 0.5) < 0.02, `after v1's requests end: want 0.5, got ${after}`);
});

const refusals: { name: string; lb: LoadBalancer; message: RegExp }[] = [
  {
    name: 'a MAGLEV table size that is not a prime',
    lb: { kind: 'MAGLEV', hashOn: { sourceIp: true }, tableSize: 65536 },
    message: /lb\.tableSize: must be a prime number, got 65536/,
  },
  {
    name: 'a ring larger than 8M entries',
    lb: { kind: 'RING_HASH', hashOn: { sourceIp: true }, minimumRingSize: 9_000_000 },
    message: /lb\.minimumRingSize: must be an integer from 1 to 8388608, got 9000000/,
  },
];
for (const c of refusals) {
  test(`balancer: refuses ${c.name}`, () => {
    assert.throws(
      () => createBalancer(cluster(c.lb, endpoints(2)), SELF, { now: () => 0, random: Math.random }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'ALDER_SNAPSHOT_INVALID');
        assert.match((err as Error).message, c.message);
        return true;
      },
    );
  });
}

test('balancer: ROUND_ROBIN starts each new picker at a random place in its cycle', () => {
  const eps = ['a', 'b', 'c', 'd'].map((a) => endpoint(a));
  const firsts = [0, 0.26, 0.51, 0.99].map((r) => {
    const b = createBalancer(cluster({ kind: 'ROUND_ROBIN' }, eps), SELF, { now: () => 0, random: () => r });
    return addressOf(b);
  });
  assert.deepEqual(firsts, ['a', 'b', 'c', 'd']);
});
