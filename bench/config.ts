// Config benchmarks: `alder validate` on 10,000 resources (in-process and as a whole command), and
// control-plane write latency for 1,000 sequential applies. Prints a table and writes JSON to
// bench/results/config.json. Run: npm run bench:config

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadSources } from '../src/config/index.ts';
import { generateMesh } from './mesh-fixture.ts';

const ROOT = join(import.meta.dirname, '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const RESOURCES = 10_000;
const APPLIES = 1_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function validateFigures(dir: string) {
  const text = generateMesh(RESOURCES);
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, text);
  const inProcess: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const result = loadSources([{ name: 'mesh.yaml', text }]);
    inProcess.push(performance.now() - t0);
    if (result.errors.length > 0 || result.resources.length !== RESOURCES) {
      throw new Error(
        `bench input must be valid: ${result.errors.length} errors, ${result.resources.length} resources`,
      );
    }
  }
  const command: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, [ALDER, 'validate', '-f', file], { stdio: 'ignore' });
    command.push(performance.now() - t0);
  }
  return {
    resources: RESOURCES,
    bytes: text.length,
    inProcessMs: median(inProcess),
    commandMs: median(command),
  };
}

async function applyFigures(dir: string) {
  const child = spawn(
    process.execPath,
    [ALDER, 'control-plane', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'cp')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"control plane ready"')) resolve(String((JSON.parse(line) as { url: string }).url));
    });
    child.on('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
  // The control plane writes its admin token on first start; the API needs it.
  const adminToken = readFileSync(join(dir, 'cp', 'admin-token'), 'utf8').trim();
  try {
    const latencies: number[] = [];
    for (let i = 0; i < APPLIES; i++) {
      const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-${i % 50}, namespace: bench}
spec:
  hosts: [reviews-${i % 50}]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: ${i % 100}
    - destination: {host: reviews, subset: v2}
      weight: ${100 - (i % 100)}
`;
      const t0 = performance.now();
      const res = await fetch(`${url}/alder/v1/apply`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ sources: [{ name: 'vs.yaml', text }] }),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`apply ${i}: status ${res.status}`);
    }
    latencies.sort((a, b) => a - b);
    return {
      applies: APPLIES,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? 0,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'alder-bench-config-'));
try {
  process.stderr.write(`validate: generating and checking ${RESOURCES} resources...\n`);
  const validate = await validateFigures(dir);
  process.stderr.write(`apply: ${APPLIES} sequential applies against a control plane...\n`);
  const apply = await applyFigures(dir);
  const result = { date: new Date().toISOString(), node: process.version, validate, apply };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'config.json'), `${JSON.stringify(result, null, 2)}\n`);
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(`
| measure | result |
| --- | --- |
| validate ${RESOURCES} resources (${(validate.bytes / 1e6).toFixed(1)} MB YAML), in-process | ${f(validate.inProcessMs)} ms |
| \`alder validate -f\` on the same file, whole command | ${f(validate.commandMs)} ms |
| API apply latency, ${APPLIES} sequential writes, p50 | ${f(apply.p50Ms)} ms |
| API apply latency, p99 | ${f(apply.p99Ms)} ms |
`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
