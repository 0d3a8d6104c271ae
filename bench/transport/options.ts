// Command-line flags of bench/transport/run.ts, settled once into TransportBenchOptions. `--quick`
// changes only the defaults; an explicit flag still wins.

import { parseArgs } from 'node:util';
import { TRANSPORTS, type TransportName } from './protocol.ts';

export const USAGE = `Transport between proxies: the mTLS hop alone, process A (sender) -> process B (answers 1 KiB).

Usage: node bench/transport/run.ts [options]     (npm run bench:transport -- [options])

  --transports LIST        in order (default: ${TRANSPORTS.join(',')})
  --repeats N              rounds over all transports; tables show medians (default: 3; quick: 1)
  --rates LIST             open-loop rates in requests/second (default: 1000,5000)
  --duration S             seconds per rate (default: 3; quick: 1)
  --warmup S               seconds at the top rate before measuring, per transport (default: 1; quick: 0.5)
  --max-duration S         seconds of the closed loop (default: 3; quick: 1)
  --concurrency N          requests in flight in the closed loop (default: 64)
  --handshake-duration S   seconds of new connections (default: 1.5; quick: 1)
  --handshake-concurrency N  connections opened at a time (default: 8)
  --no-pin                 do not pin with taskset (default: A and the harness on CPU 0, B on CPU 1)
  --out FILE               JSON result (default: bench/results/transport.json, not committed)
  --quick                  about 30 s in all: one round of short phases, a smoke run
  -h, --help               this text
`;

export interface TransportBenchOptions {
  transports: TransportName[];
  repeats: number;
  ratesRps: number[];
  durationS: number;
  warmupS: number;
  maxDurationS: number;
  concurrency: number;
  handshakeDurationS: number;
  handshakeConcurrency: number;
  /** Seconds to wait for answers after a rate phase's last due time. */
  drainS: number;
  isQuick: boolean;
  isPinned: boolean;
  outFile: string;
}

/** Parses argv; throws an Error whose message names the flag and what it accepts. */
export function parseOptions(argv: string[], defaultOut: string): TransportBenchOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      transports: { type: 'string' },
      repeats: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'max-duration': { type: 'string' },
      concurrency: { type: 'string' },
      'handshake-duration': { type: 'string' },
      'handshake-concurrency': { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return 'help';
  const q = v.quick;
  return {
    transports: parseTransports(v.transports),
    repeats: num('--repeats', v.repeats ?? (q ? '1' : '3'), 1, 20),
    ratesRps: (v.rates ?? '1000,5000').split(',').map((r) => num('--rates', r, 1, 200_000)),
    durationS: num('--duration', v.duration ?? (q ? '1' : '3'), 0.2, 600),
    warmupS: num('--warmup', v.warmup ?? (q ? '0.5' : '1'), 0, 60),
    maxDurationS: num('--max-duration', v['max-duration'] ?? (q ? '1' : '3'), 0.2, 600),
    concurrency: num('--concurrency', v.concurrency ?? '64', 1, 512),
    handshakeDurationS: num('--handshake-duration', v['handshake-duration'] ?? (q ? '1' : '1.5'), 0, 600),
    handshakeConcurrency: num('--handshake-concurrency', v['handshake-concurrency'] ?? '8', 1, 256),
    drainS: q ? 2 : 5,
    isQuick: q,
    isPinned: !v['no-pin'],
    outFile: v.out ?? defaultOut,
  };
}

function parseTransports(list: string | undefined): TransportName[] {
  if (list === undefined) return [...TRANSPORTS];
  const names = list.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(TRANSPORTS as readonly string[]).includes(name)) {
      throw new Error(`--transports: unknown ${JSON.stringify(name)}, want some of ${TRANSPORTS.join(',')}`);
    }
  }
  return names as TransportName[];
}

function num(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${flag}: must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}
