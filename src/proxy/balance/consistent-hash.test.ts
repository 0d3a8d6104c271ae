// One table of consistent-hashing properties run against both hash policies (RING_HASH, MAGLEV):
// stickiness, spread, weights, and how few keys move when an endpoint leaves or is ejected.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, LoadBalancer } from '../../wire/index.ts';
import { type Balancer, createBalancer } from './balancer.ts';
import { hash53 } from './hash.ts';
import { createOutlierDetector } from './outlier-detector.ts';
import { createRingHashPicker } from './ring-hash.ts';
import { cluster, endpoints, hostsOf, outlierConfig, seededRandom } from './test-support.ts';

const SELF = { locality: '', labels: {} };
const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

interface Policy {
  kind: 'RING_HASH' | 'MAGLEV';
  /** Allowed distance of each of 10 equal endpoints' share from 0.10. */
  spread: number;
  /** Allowed share of keys that move between endpoints that stayed, when one of N leaves. */
  movedElsewhere: { n: number; max: number }[];
}

const policies: Policy[] = [
  {
    kind: 'RING_HASH',
    spread: 0.03,
    // Envoy's ring sizing gives every host ceil(1024 / N) entries: 103 for N=10 but 114 for N=9, so
    // the surviving hosts gain entries and ~8% of keys shuffle; for N=100 (11 entries either way) none do.
    movedElsewhere: [
      { n: 100, max: 0 },
      { n: 10, max: 0.1 },
    ],
  },
  {
    kind: 'MAGLEV',
    spread: 0.005,
    movedElsewhere: [
      { n: 100, max: 0.01 },
      { n: 10, max: 0.01 },
    ],
  },
];

function lbOf(kind: Policy['kind']): LoadBalancer {
  return { kind, hashOn: { header: 'x-user' } };
}

function build(kind: Policy['kind'], eps: Endpoint[], extra: object = {}): Balancer {
  return createBalancer(cluster(lbOf(kind), eps), SELF, { now: () => 0, random: seededRandom(9), ...extra });
}

function owners(b: Balancer): string[] {
  return KEYS.map((hashKey) => {
    const r = b.pick({ hashKey });
    return r.kind === 'endpoint' ? r.endpoint.address : r.kind;
  });
}

function shares(owner: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of owner) counts.set(o, (counts.get(o) ?? 0) + 1 / owner.length);
  return counts;
}

/** Keys that moved although their old endpoint is still there, as a share of all keys. */
function movedElsewhere(before: string[], after: string[], gone: string): { ofGone: number; others: number } {
  let ofGone = 0;
  let others = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === gone) ofGone += after[i] === gone ? 0 : 1;
    else if (before[i] !== after[i]) others++;
  }
  return { ofGone, others: others / before.length };
}

for (const p of policies) {
  test(`${p.kind}: the same key always picks the same endpoint`, () => {
    const b = build(p.kind, endpoints(10));
    const first = owners(b);
    b.pick({ hashKey: 'someone-else' });
    assert.deepEqual(owners(b), first);
  });

  test(`${p.kind}: keys spread evenly over 10 equal endpoints (each 0.10 ± ${p.spread})`, () => {
    for (const [address, s] of shares(owners(build(p.kind, endpoints(10))))) {
      assert.ok(Math.abs(s - 0.1) <= p.spread, `${address}: want 0.10 ± ${p.spread}, got ${s.toFixed(4)}`);
    }
  });

  test(`${p.kind}: an endpoint of weight 3 among nine of weight 1 gets a quarter of the keys`, () => {
    const eps = endpoints(10).map((e, i) => ({ ...e, weight: i === 0 ? 3 : 1 }));
    const s = shares(owners(build(p.kind, eps))).get(eps[0]!.address) ?? 0;
    assert.ok(
      Math.abs(s - 0.25) <= p.spread * 1.5,
      `weight 3: want 0.25 ± ${p.spread * 1.5}, got ${s.toFixed(4)}`,
    );
  });

  for (const m of p.movedElsewhere) {
    test(`${p.kind}: removing one endpoint of ${m.n} moves its keys and at most ${m.max} of the rest`, () => {
      const eps = endpoints(m.n);
      const gone = eps[3]!.address;
      const before = owners(build(p.kind, eps));
      const after = owners(
        build(
          p.kind,
          eps.filter((e) => e.address !== gone),
        ),
      );
      const moved = movedElsewhere(before, after, gone);
      const ownedByGone = before.filter((o) => o === gone).length;
      assert.equal(moved.ofGone, ownedByGone, 'every key of the removed endpoint moves');
      assert.ok(
        moved.others <= m.max,
        `keys moved between staying endpoints: want ≤ ${m.max}, got ${moved.others}`,
      );
    });
  }

  test(`${p.kind}: ejecting an endpoint moves its keys only, and they come back on return`, () => {
    const eps = endpoints(100);
    let now = 0;
    const outlier = createOutlierDetector(outlierConfig({ consecutive5xxErrors: 1 }), { now: () => now });
    const b = build(p.kind, eps, { outlier });
    const before = owners(b);
    outlier.report(eps[3]!, { kind: 'response', status: 503 });
    const during = owners(b);
    const moved = movedElsewhere(before, during, eps[3]!.address);
    assert.equal(moved.ofGone, before.filter((o) => o === eps[3]!.address).length);
    assert.ok(moved.others <= 0.01, `keys moved between healthy endpoints: want ≤ 0.01, got ${moved.others}`);
    now += 30_000;
    outlier.tick();
    assert.deepEqual(owners(b), before, 'after the endpoint returns every key is back where it was');
  });

  test(`${p.kind}: a request without a key still gets an endpoint, a random one`, () => {
    const b = build(p.kind, endpoints(10));
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = b.pick();
      assert.equal(r.kind, 'endpoint');
      if (r.kind === 'endpoint') seen.add(r.endpoint.address);
    }
    assert.equal(seen.size, 10, `200 keyless picks: want all 10 endpoints, got ${seen.size}`);
  });
}

test('RING_HASH: the ring has at least minimumRingSize entries, the lightest host a whole number', () => {
  const cases = [
    { hosts: 3, minimumRingSize: 1024, want: 1026 },
    { hosts: 100, minimumRingSize: 1024, want: 1100 },
    { hosts: 2, minimumRingSize: 16, want: 16 },
  ];
  for (const c of cases) {
    const hosts = hostsOf(endpoints(c.hosts));
    const ring = createRingHashPicker(
      hosts,
      hosts.map(() => 1),
      c.minimumRingSize,
    );
    assert.equal(ring.size, c.want, `${c.hosts} hosts, minimum ${c.minimumRingSize}: want ${c.want} entries`);
  }
});

test('RING_HASH: the sliced lookup finds the first entry at or after the hash, as a linear scan does', () => {
  const hosts = hostsOf(endpoints(7));
  const perHost = Math.ceil(1024 / 7);
  const points = hosts
    .flatMap((h, owner) =>
      Array.from({ length: perHost }, (_, i) => ({ hash: hash53(`${h.key}_${i}`), owner })),
    )
    .sort((a, b) => a.hash - b.hash);
  const ring = createRingHashPicker(
    hosts,
    hosts.map(() => 1),
    1024,
  );
  const random = seededRandom(11);
  const probes = [0, points[0]!.hash, points.at(-1)!.hash, points.at(-1)!.hash + 1, 2 ** 53 - 1];
  for (let i = 0; i < 5000; i++) probes.push(Math.floor(random() * 2 ** 53));
  for (const hash of probes) {
    const want = hosts[(points.find((p) => p.hash >= hash) ?? points[0]!).owner]!;
    assert.equal(ring.pick({ hash, nowMs: 0 }), want, `hash ${hash}`);
  }
});
