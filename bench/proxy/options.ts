// Command-line flags of bench/proxy/run.ts, settled once into BenchOptions. `--quick` only changes the
// defaults of the durations; an explicit flag still wins.

import { parseArgs } from 'node:util';

export const USAGE = `Side-by-side data-plane benchmark: client -> proxy A -> mTLS 1.3 -> proxy B -> backend.

Usage: node bench/proxy/run.ts [options]     (npm run bench:proxy -- [options])

  --pairs LIST          pairs to run, in order (default: direct,nginx,haproxy,alder,alder-routes,
                        alder-authz; alder-routes is Alder with a realistic route table: 1,000
                        other services with VirtualServices, and 50 routes before the one the
                        benchmark takes; alder-authz is Alder with 100 AuthorizationPolicies in
                        force on B, the one that allows A's requests last;
                        alder-direct, run on request, is Alder with mTLS to the destination port
                        instead of HBONE tunnels)
  --rates LIST          fixed rates in requests/second (default: 1000,5000)
  --duration S          seconds per fixed-rate phase (default: 15; quick: 3)
  --warmup S            seconds of warm-up per pair (default: 5; quick: 1)
  --max-duration S      seconds of the max-throughput phase (default: 15; quick: 3)
  --connections N       connections at fixed rates (default: 16)
  --max-connections N   connections in the max-throughput phase (default: 32)
  --quick               short phases for a smoke run (about 15 s per pair)
  --no-pin              do not pin with taskset (default: load generator on CPU 0, pair + backend on CPU 1)
  --no-install          never apt-get install missing tools; fail instead
  --keep                keep the temporary folder (configs, certificates, logs) and print its path
  --out FILE            JSON result (default: bench/results/proxy.json)
  -h, --help            this text
`;

export const PAIR_NAMES = [
  'direct',
  'nginx',
  'haproxy',
  'alder',
  'alder-routes',
  'alder-authz',
  'alder-direct',
] as const;
/** What runs without --pairs: alder-direct (HBONE off) is there for comparisons on demand. */
export const DEFAULT_PAIRS: readonly PairName[] = [
  'direct',
  'nginx',
  'haproxy',
  'alder',
  'alder-routes',
  'alder-authz',
];
export type PairName = (typeof PAIR_NAMES)[number];

export interface BenchOptions {
  pairs: PairName[];
  ratesRps: number[];
  durationS: number;
  warmupS: number;
  maxDurationS: number;
  connections: number;
  maxConnections: number;
  isQuick: boolean;
  isPinned: boolean;
  mayInstall: boolean;
  keepDir: boolean;
  outFile: string;
}

/** Parses argv; throws an Error whose message names the flag and what it accepts. */
export function parseOptions(argv: string[], defaultOut: string): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      pairs: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'max-duration': { type: 'string' },
      connections: { type: 'string' },
      'max-connections': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'no-install': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const isQuick = values.quick;
  return {
    pairs: parsePairs(values.pairs),
    ratesRps: (values.rates ?? '1000,5000').split(',').map((r) => num('--rates', r, 1, 1_000_000)),
    durationS: num('--duration', values.duration ?? (isQuick ? '3' : '15'), 1, 600),
    warmupS: num('--warmup', values.warmup ?? (isQuick ? '1' : '5'), 0, 120),
    maxDurationS: num('--max-duration', values['max-duration'] ?? (isQuick ? '3' : '15'), 1, 600),
    connections: num('--connections', values.connections ?? '16', 1, 1024),
    maxConnections: num('--max-connections', values['max-connections'] ?? '32', 1, 1024),
    isQuick,
    isPinned: !values['no-pin'],
    mayInstall: !values['no-install'],
    keepDir: values.keep,
    outFile: values.out ?? defaultOut,
  };
}

function parsePairs(list: string | undefined): PairName[] {
  if (list === undefined) return [...DEFAULT_PAIRS];
  const names = list.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(PAIR_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--pairs: unknown pair ${JSON.stringify(name)}, want some of ${PAIR_NAMES.join(',')}`);
    }
  }
  return names as PairName[];
}

function num(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${flag}: must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}
