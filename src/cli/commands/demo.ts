// `alder demo`: the demo mesh behind `npm start` (see src/cli/demo/demo-mesh.ts).

import { join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { parseCommandArgs, usageError } from '../usage.ts';

export const demo: Command = {
  name: 'demo',
  help: `Run a demo mesh on this machine: a control plane, the Istio config in examples/demo, one node
proxy for the host, and Bookinfo's services under \`alder run\` (productpage → details, reviews v1/v2/v3
→ ratings over gRPC → a key-value store over TCP), with a steady load generator. It prints what runs
where and what to try; Ctrl-C stops every process it started.

Usage:
  alder demo [--sidecars] [--services N] [--rps N] [--once SECONDS] [--data-dir DIR]

Options:
  --sidecars        a proxy per workload (alder run --sidecar) instead of the node proxy
  --services N      N more services (svc-1 … svc-N, each a small HTTP app) for a larger mesh
  --rps N           requests a second from the load generator (default 5)
  --once SECONDS    stop after the mesh is ready and the load ran this long; exit 0 when at least
                    99% of the load succeeded
  --data-dir DIR    where the control plane, the proxies and the logs keep their files (default
                    .alder/demo; emptied at each start)
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'demo',
      argv,
      {
        sidecars: { type: 'boolean' },
        services: { type: 'string' },
        rps: { type: 'string' },
        once: { type: 'string' },
        'data-dir': { type: 'string' },
      },
      0,
    );
    const count = (flag: string, text: string | undefined, fallback: number, max: number) => {
      if (text === undefined) return fallback;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || n > max)
        throw usageError(
          `--${flag} must be a whole number from 0 to ${max}, got ${JSON.stringify(text)}`,
          'demo',
        );
      return n;
    };
    const { runDemo } = await import('../demo/demo-mesh.ts');
    const once = count('once', values.once, -1, 3600);
    return runDemo(
      {
        dataDir: resolve(values['data-dir'] ?? join('.alder', 'demo')),
        sidecars: values.sidecars === true,
        services: count('services', values.services, 0, 240),
        rps: Math.max(1, count('rps', values.rps, 5, 500)),
        onceMs: once < 0 ? undefined : once * 1000,
      },
      io,
    );
  },
};
