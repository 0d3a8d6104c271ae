// Micro-benchmark of path normalization (not a test): ns per call under BASE and MERGE_SLASHES for
// paths the fast check passes untouched and paths that take the slow path, beside NONE (a bare call).
// Run: node_modules/.bin/node src/proxy/http/normalize-path.bench.ts

import { type PathNormalization, pathNormalizer } from './normalize-path.ts';

const CALLS = 2_000_000;

const paths: { name: string; path: string }[] = [
  { name: 'short, untouched', path: '/reviews/1' },
  { name: 'API path with a query, untouched', path: '/api/v1/products/12345/reviews?full=true&lang=en' },
  { name: 'file name with dots, untouched', path: '/static/js/app.3f9a1c.min.js' },
  { name: '120-byte path, untouched', path: `/${'segment/'.repeat(12)}end` },
  { name: 'dot segment (slow path)', path: '/public/../admin/users' },
  { name: 'percent escape (slow path)', path: '/search/caf%C3%A9/results' },
  { name: '.well-known (slow, unchanged)', path: '/.well-known/openid-configuration' },
];

const modes: PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES'];

// Flat strings, as targets parsed from bytes are (template literals would be cons strings).
const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');

for (const p of paths) {
  const line: string[] = [p.name.padEnd(36)];
  for (const mode of modes) {
    const normalize = pathNormalizer(mode);
    const inputs = Array.from({ length: 64 }, () => flat(p.path));
    let sink = 0;
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = normalize(inputs[i & 63] as string);
        sink += typeof r === 'string' ? r.length : 1;
      }
    };
    run(200_000); // warm up the JIT
    // Five rounds, the median: the figures are from a shared machine.
    const rounds = Array.from({ length: 5 }, () => {
      const start = process.hrtime.bigint();
      run(CALLS);
      return Number(process.hrtime.bigint() - start) / CALLS;
    }).sort((x, y) => x - y);
    line.push(`${mode} ${(rounds[2] as number).toFixed(1).padStart(6)} ns${sink < 0 ? '!' : ''}`);
  }
  process.stdout.write(`${line.join('  ')}\n`);
}
