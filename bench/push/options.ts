// Command-line flags of bench/push/run.ts, settled once into PushBenchOptions.

import { parseArgs } from 'node:util';

export const USAGE = `Config distribution benchmark: how config changes reach many connected proxies.

Usage: node bench/push/run.ts [options]     (npm run bench:push -- [options])

  --proxies LIST     connected proxies per round (default: 100,1000,10000; quick: 100,1000)
  --repeats N        times each change is written (default: 5; quick: 2)
  --quick            100 and 1,000 proxies, 2 repeats
  --services N       services in namespace bench (default: 20), 3 endpoints each
  --burst N          separate writes in a row with 100 proxies connected (default: 100; 0: none)
  --cpu-prof DIR     write the control plane's CPU profile of each round to DIR, and print its top
                     functions by self time
  --no-pin           do not pin with taskset (default: control plane on CPU 1, proxies on CPU 0)
  --out FILE         JSON result (default: bench/results/push-<date>.json)
  -h, --help         this text
`;

export interface PushBenchOptions {
  proxies: number[];
  repeats: number;
  services: number;
  burst: number;
  cpuProfDir: string | undefined;
  isPinned: boolean;
  isQuick: boolean;
  outFile: string | undefined;
}

/** Parses argv; throws an Error whose message names the flag and what it accepts. */
export function parseOptions(argv: string[]): PushBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      proxies: { type: 'string' },
      repeats: { type: 'string' },
      services: { type: 'string' },
      burst: { type: 'string' },
      'cpu-prof': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const isQuick = values.quick;
  return {
    proxies: (values.proxies ?? (isQuick ? '100,1000' : '100,1000,10000'))
      .split(',')
      .map((n) => num('--proxies', n, 1, 50_000)),
    repeats: num('--repeats', values.repeats ?? (isQuick ? '2' : '5'), 1, 100),
    services: num('--services', values.services ?? '20', 3, 5000),
    burst: num('--burst', values.burst ?? '100', 0, 10_000),
    cpuProfDir: values['cpu-prof'],
    isPinned: !values['no-pin'],
    isQuick,
    outFile: values.out,
  };
}

function num(flag: string, text: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${flag}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}
