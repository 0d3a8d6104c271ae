// Micro-benchmark of Balancer.pick: ns per pick for each policy over 100 endpoints (plus the hash
// policies' key hashing, and a warming-up and a locality case). Run: node src/proxy/balance/pick.bench.ts

import type { LoadBalancer } from '../../wire/index.ts';
import { createBalancer } from './balancer.ts';
import { cluster, endpoints, seededRandom } from './test-support.ts';

const ENDPOINTS = 100;
const PICKS = 1_000_000;
// Flat strings, as header values parsed from bytes are (template literals would be cons strings).
const KEYS = Array.from({ length: 4096 }, (_, i) =>
  Buffer.from(`user-${i}-${(i * 2654435761) >>> 0}`).toString('latin1'),
);

const cases: { name: string; lb: LoadBalancer; weighted?: boolean; warm?: boolean; zones?: boolean }[] = [
  { name: 'ROUND_ROBIN', lb: { kind: 'ROUND_ROBIN' } },
  { name: 'ROUND_ROBIN weighted', lb: { kind: 'ROUND_ROBIN' }, weighted: true },
  { name: 'ROUND_ROBIN warming up', lb: { kind: 'ROUND_ROBIN', warmupMs: 3_600_000 }, warm: true },
  { name: 'LEAST_REQUEST', lb: { kind: 'LEAST_REQUEST' } },
  { name: 'LEAST_REQUEST weighted', lb: { kind: 'LEAST_REQUEST' }, weighted: true },
  { name: 'RANDOM', lb: { kind: 'RANDOM' } },
  { name: 'RING_HASH (header key)', lb: { kind: 'RING_HASH', hashOn: { header: 'x-user' } } },
  { name: 'MAGLEV (header key)', lb: { kind: 'MAGLEV', hashOn: { header: 'x-user' } } },
  { name: 'ROUND_ROBIN, 4 locality priorities', lb: { kind: 'ROUND_ROBIN', locality: {} }, zones: true },
  { name: 'PASSTHROUGH', lb: { kind: 'PASSTHROUGH' } },
];

for (const c of cases) {
  const eps = endpoints(ENDPOINTS).map((e, i) => ({
    ...e,
    weight: c.weighted === true ? 1 + (i % 4) : 1,
    locality: c.zones === true ? `us-east/${'abcd'[i % 4]}/1` : '',
  }));
  let now = 0;
  const buildStart = process.hrtime.bigint();
  const b = createBalancer(
    cluster(c.lb, c.lb.kind === 'PASSTHROUGH' ? [] : eps),
    { locality: 'us-east/a/1', labels: {} },
    {
      now: () => now,
      random: seededRandom(1),
    },
  );
  const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
  if (c.warm !== true) now = 1e12;
  const isHash = c.lb.kind === 'RING_HASH' || c.lb.kind === 'MAGLEV';
  const contexts = KEYS.map((hashKey) => ({ hashKey }));
  let sink = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = b.pick(isHash ? contexts[i & 4095] : undefined);
      if (r.kind === 'endpoint') sink += r.endpoint.port;
    }
  };
  run(200_000); // warm up the JIT
  // Five rounds, best and median: the figures are from a shared machine, the best is the least noisy.
  const rounds = Array.from({ length: 5 }, () => {
    const start = process.hrtime.bigint();
    run(PICKS);
    return Number(process.hrtime.bigint() - start) / PICKS;
  }).sort((x, y) => x - y);
  const line = `${c.name.padEnd(36)} best ${rounds[0]!.toFixed(1).padStart(6)} ns/pick, median ${rounds[2]!.toFixed(1).padStart(6)}`;
  process.stdout.write(`${line}   build ${buildMs.toFixed(2)} ms${sink < 0 ? '!' : ''}\n`);
}
