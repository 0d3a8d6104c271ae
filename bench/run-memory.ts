// Memory of the proxies for 1, 10 and 50 workloads on one host, each `alder run` with its own proxy
// (sidecar mode) against one node proxy for all (node mode), idle and under load, and what each
// additional workload costs. For each mode and size: a fresh control plane, svc-1 … svc-N under
// `alder run` (each a details app) and a load client workload; RSS, RssAnon and PSS read from /proc
// once the mesh is quiet, then sampled every 500 ms while the client sends load through its proxy.
// Prints a table and the targets; writes bench/results/run-memory-DATE.json. Linux only.
// Usage: node bench/run-memory.ts [--workloads 1,10,50] [--modes sidecar,node] [--load-seconds 5]
//                                  [--rps 200] [--batch 10] [--quiet-ms 3000]

import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readGroup, sampleGroups, waitQuiet } from './run-memory/memory.ts';
import { type Mesh, type Mode, newMeshProcs, startMesh, stopMesh, waitAllAnswer } from './run-memory/mesh.ts';
import {
  type Failure,
  type GroupResult,
  type MeshResult,
  marginals,
  marginalText,
  resultsTable,
  targets,
  targetsText,
} from './run-memory/report.ts';

const USAGE = `Usage: node bench/run-memory.ts [--workloads 1,10,50] [--modes sidecar,node] [--load-seconds 5]
                                 [--rps 200] [--batch 10] [--quiet-ms 3000]
Memory of the proxies for each number of workloads, a sidecar each against one node proxy, idle and
under load; prints a table and the targets, and writes bench/results/run-memory-DATE.json.
`;
let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { values } = parsed;

function parseOptions() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      workloads: { type: 'string', default: '1,10,50' },
      modes: { type: 'string', default: 'sidecar,node' },
      'load-seconds': { type: 'string', default: '5' },
      rps: { type: 'string', default: '200' },
      batch: { type: 'string', default: '10' },
      'quiet-ms': { type: 'string', default: '3000' },
    },
  });
}
const sizes = values.workloads.split(',').map(Number);
const modes = values.modes.split(',') as Mode[];
const loadSeconds = Number(values['load-seconds']);
const rps = Number(values.rps);
const batch = Number(values.batch);
const quietMs = Number(values['quiet-ms']);
const usage = (message: string): never => {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
};
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 250))
  usage(`--workloads takes numbers from 1 to 250, such as 1,10,50; got ${values.workloads}`);
if (modes.some((m) => m !== 'sidecar' && m !== 'node'))
  usage(`--modes takes sidecar, node or both (sidecar,node); got ${values.modes}`);
if (!(loadSeconds > 0 && rps > 0 && Number.isInteger(batch) && batch >= 1 && quietMs >= 500))
  usage('--load-seconds and --rps must be positive, --batch a whole number from 1, --quiet-ms at least 500');

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const progress = (text: string) => process.stderr.write(`[${elapsed()}] ${text}\n`);

/** Settles when Ctrl-C (or SIGTERM) comes: every step races it, so a run stops at once and cleans up. */
let interruptedBy: string | undefined;
const interrupted = new Promise<never>((_, reject) => {
  const on = (signal: string) => {
    interruptedBy = signal;
    reject(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
});
interrupted.catch(() => undefined);
const raced = <T>(p: Promise<T>): Promise<T> => Promise.race([p, interrupted]);

const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
const resultsDir = join(import.meta.dirname, 'results');
const dir = mkdtempSync(join(tmpdir(), 'alder-run-memory-'));
const results: MeshResult[] = [];
const failures: Failure[] = [];

/** The proxies' and supervisors' figures: idle now, then under load. */
async function measure(mode: Mode, n: number, mesh: Mesh): Promise<MeshResult> {
  const runs = [...mesh.services, mesh.client].map((p) => p.pid);
  const groups = mode === 'node' ? { proxies: [mesh.node?.pid ?? 0], supervisors: runs } : { proxies: runs };
  progress(`${mode} ${n}: waiting for the mesh to go quiet`);
  const quiet = await raced(
    waitQuiet(mesh.allPids, { quietMs, maxCpuShare: 0.1 + 0.002 * mesh.allPids().length, timeoutMs: 60_000 }),
  );
  if (!quiet.isQuiet)
    progress(
      `${mode} ${n}: still busy after 60s (${(quiet.cpuShare * 100).toFixed(0)}% of a core): measuring anyway`,
    );
  const idle = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, readGroup(pids)]));
  progress(`${mode} ${n}: ${rps} requests a second for ${loadSeconds}s`);
  const sampler = sampleGroups(groups as Record<string, number[]>, 500);
  const { load, sampled } = await raced(sendLoad(mesh, n, loadSeconds)).then(
    (load) => ({ load, sampled: sampler.stop() }),
    (err: unknown) => {
      sampler.stop();
      throw err;
    },
  );
  const group = (k: string): GroupResult | undefined => {
    const [before, peak, last] = [idle[k], sampled.peak[k], sampled.last[k]];
    if (before === undefined || peak === undefined || last === undefined) return undefined;
    return {
      processes: before.each.length,
      idle: before.total,
      idleEach: before.each,
      loadPeak: peak,
      loadEnd: last.total,
    };
  };
  return {
    mode,
    services: n,
    workloads: n + 1,
    proxies: group('proxies') as GroupResult,
    supervisors: group('supervisors'),
    load: { ...load, samples: sampled.samples },
    startMs: 0,
    stop: { ms: 0, killed: [] },
    quiet: { ...quiet, waitedMs: Math.round(quiet.waitedMs) },
  };
}

/** The load client's report of `--rps` requests a second over the `n` services for `seconds`. */
async function sendLoad(mesh: Mesh, n: number, seconds: number): Promise<Record<string, unknown>> {
  const r = await fetch(`${mesh.clientUrl}/load?services=${n}&rps=${rps}&seconds=${seconds}`, {
    signal: AbortSignal.timeout(seconds * 1000 + 30_000),
  });
  if (r.status !== 200) throw new Error(`the load client answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as Record<string, unknown>;
}

/**
 * Starts a mesh of `n` services in `mode`, measures it and stops it. A warm-up mesh is only started,
 * loaded for a second and stopped: its processes fill Node's compile cache (written as a process
 * exits), without which each process of the first mesh would also hold the type-stripped sources
 * and the compiler (about 35 MiB more).
 */
async function runOne(mode: Mode, n: number, isWarmUp = false): Promise<void> {
  const meshDir = join(dir, `${mode}-${n}`);
  const procs = newMeshProcs();
  const t0 = performance.now();
  let measured: MeshResult | undefined;
  try {
    progress(
      `${mode} ${n}: starting a control plane${mode === 'node' ? ', the node proxy' : ''}, ${n} services and the load client${isWarmUp ? ' (warm-up: fills the compile cache)' : ''}`,
    );
    const mesh = await raced(
      startMesh({
        mode,
        services: n,
        dir: meshDir,
        batch,
        procs,
        progress: (t) => progress(`${mode} ${n}: ${t}`),
      }),
    );
    const answeredMs = await raced(waitAllAnswer(mesh.clientUrl, n, 120_000));
    const startMs = Math.round(performance.now() - t0);
    progress(
      `${mode} ${n}: every service answers the client (${(startMs / 1000).toFixed(1)}s from the start, ${(answeredMs / 1000).toFixed(1)}s after the last app listened)`,
    );
    if (isWarmUp) {
      await raced(sendLoad(mesh, n, 1));
      return;
    }
    const r = await measure(mode, n, mesh);
    r.startMs = startMs;
    measured = r;
    const ok = Number(r.load.ok);
    progress(
      `${mode} ${n}: proxies ${(r.proxies.idle.rssKiB / 1024).toFixed(0)} MiB RSS idle, ${(r.proxies.loadPeak.rssKiB / 1024).toFixed(0)} MiB under load; load ${ok}/${String(r.load.sent)} ok`,
    );
  } catch (err) {
    const error = (err as Error).message;
    failures.push({ mode, services: n, error: isWarmUp ? `warm-up: ${error}` : error });
    progress(`${mode} ${n}: failed: ${error}`);
    if (interruptedBy === undefined && existsSync(join(meshDir, 'logs'))) {
      const logs = join(resultsDir, `run-memory-${stamp}-logs`, `${mode}-${n}`);
      mkdirSync(logs, { recursive: true });
      cpSync(join(meshDir, 'logs'), logs, { recursive: true });
      progress(`${mode} ${n}: its processes' logs are in ${logs}`);
    }
  } finally {
    progress(`${mode} ${n}: stopping every process`);
    const t = performance.now();
    const killed = await stopMesh(procs);
    progress(
      `${mode} ${n}: stopped in ${((performance.now() - t) / 1000).toFixed(1)}s` +
        (killed.length === 0 ? '' : `; needed SIGKILL: ${killed.join(', ')}`),
    );
    if (measured !== undefined)
      results.push({ ...measured, stop: { ms: Math.round(performance.now() - t), killed } });
    rmSync(meshDir, { recursive: true, force: true });
  }
}

try {
  for (const mode of modes) if (interruptedBy === undefined) await runOne(mode, 1, true);
  for (const mode of modes) {
    for (const n of sizes) {
      if (interruptedBy !== undefined) break;
      await runOne(mode, n);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (interruptedBy !== undefined) {
  progress('stopped: every process it started has been stopped');
  process.exit(130);
}

const ms = marginals(results);
const ts = targets(results, ms);
const cores = cpus().length;
process.stdout.write(
  `\nMemory of the proxies, sidecar and node mode (${cores} cores, ${rps} req/s for ${loadSeconds}s)\n\n` +
    `${resultsTable(results)}\n${marginalText(ms)}\n${targetsText(ts)}`,
);
for (const f of failures) process.stdout.write(`FAILED ${f.mode} ${f.services}: ${f.error}\n`);
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `run-memory-${stamp}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: {
        cores,
        cpu: cpus()[0]?.model,
        memoryMiB: Math.round(totalmem() / 2 ** 20),
        kernel: release(),
        node: process.version,
      },
      options: { workloads: sizes, modes, loadSeconds, rps, batch, quietMs },
      runSeconds: Math.round((performance.now() - started) / 1000),
      results,
      perAdditionalWorkloadMiB: ms,
      targets: ts,
      failures,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`\nwritten to ${file} (${elapsed()})\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
