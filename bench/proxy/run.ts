// Side-by-side data-plane benchmark: client → proxy A → mutual TLS 1.3 → proxy B → backend, for
// direct, nginx, HAProxy and Alder in one run. Prints markdown tables on stdout, progress on stderr,
// and writes bench/results/proxy.json. Run: npm run bench:proxy [-- --quick]. See README.md here.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { alderAuthzPair, alderDirectPair, alderPair, alderRoutesPair } from './alder.ts';
import { generateCerts } from './certs.ts';
import { haproxyPair } from './haproxy.ts';
import { buildLoadgen } from './loadgen.ts';
import type { ManagedProcess } from './managed-process.ts';
import { type MeasureEnv, measurePair, type PairMeasurements } from './measure.ts';
import { nginxPair, startBackend } from './nginx.ts';
import { type BenchOptions, type PairName, parseOptions, USAGE } from './options.ts';
import type { PairContext, ProxyPair } from './pair.ts';
import { markdownReport, type PairResult, ratios } from './report.ts';
import { ensureTools, type Tools, versionOf } from './tools.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The load generator straight to the backend: the baseline that "added latency" subtracts. */
const directPair: ProxyPair = {
  name: 'direct',
  title: 'direct',
  skipReason: () => undefined,
  start: async (ctx) => ({
    port: ctx.backendPort,
    hostHeader: undefined,
    proxies: undefined,
    stop: async () => {},
  }),
};

const PAIRS: Record<PairName, ProxyPair> = {
  direct: directPair,
  nginx: nginxPair,
  haproxy: haproxyPair,
  alder: alderPair,
  'alder-routes': alderRoutesPair,
  'alder-authz': alderAuthzPair,
  'alder-direct': alderDirectPair,
};

const log = (line: string) => process.stderr.write(`[bench:proxy] ${line}\n`);

/** Load generator on CPU 0, everything under test on CPU 1; see README.md for why. */
function cpuPlan(opts: BenchOptions, tools: Tools) {
  if (!opts.isPinned) return { load: undefined, sut: undefined, note: 'not pinned (--no-pin)' };
  if (tools.taskset === undefined || cpus().length < 2) {
    log('not pinning: needs taskset and at least 2 CPUs');
    return { load: undefined, sut: undefined, note: 'not pinned (needs taskset and 2 CPUs)' };
  }
  // The harness itself only samples /proc and waits; keep it off the CPU under test too.
  execFileSync(tools.taskset, ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  return { load: '0', sut: '1', note: 'load generator + harness on CPU 0; proxies + backend on CPU 1' };
}

/** Starts, measures and stops one pair; a pair that cannot run or fails is recorded, not thrown. */
async function runPair(pair: ProxyPair, ctx: PairContext, opts: BenchOptions, env: MeasureEnv) {
  const result = (status: PairResult['status'], note?: string, measurements?: PairMeasurements) =>
    ({ name: pair.name, title: pair.title, status, note, measurements }) satisfies PairResult;
  const skip = pair.skipReason();
  if (skip !== undefined) {
    log(`${pair.name}: skipped: ${skip}`);
    return result('skipped', skip);
  }
  log(`${pair.name}: starting`);
  const dir = join(ctx.dir, pair.name);
  mkdirSync(dir, { recursive: true });
  try {
    const running = await pair.start({ ...ctx, dir });
    try {
      return result('ran', undefined, await measurePair(pair.name, running, opts, env));
    } finally {
      await running.stop();
    }
  } catch (err) {
    const note = err instanceof Error ? err.message : String(err);
    log(`${pair.name}: failed: ${note}`);
    return result('failed', note);
  }
}

async function main(): Promise<number> {
  const defaultOut = join(ROOT, 'bench', 'results', 'proxy.json');
  let opts: BenchOptions | 'help';
  try {
    opts = parseOptions(process.argv.slice(2), defaultOut);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const tools = ensureTools({
    needsHaproxy: opts.pairs.includes('haproxy'),
    mayInstall: opts.mayInstall,
    log,
  });
  const dir = mkdtempSync(join(tmpdir(), 'alder-bench-proxy-'));
  let backend: ManagedProcess | undefined;
  try {
    const [load1] = loadavg();
    if ((load1 ?? 0) > 0.5)
      log(`warning: load average ${load1?.toFixed(2)}: other work on this machine adds noise`);
    const cpu = cpuPlan(opts, tools);
    log(`pinning: ${cpu.note}`);
    const loadgen = buildLoadgen(tools.cc, dir);
    const certs = generateCerts(tools.openssl, dir);
    const started = await startBackend({ nginx: tools.nginx, dir, cpuList: cpu.sut });
    backend = started.server;
    log(`backend: nginx on 127.0.0.1:${started.port}`);
    const ctx: PairContext = { dir, certs, backendPort: started.port, cpuList: cpu.sut, tools, log };
    const env = { loadgen, loadCpuList: cpu.load, log };
    const results: PairResult[] = [];
    for (const name of opts.pairs) results.push(await runPair(PAIRS[name], ctx, opts, env));

    const markdown = markdownReport(results, opts.ratesRps);
    process.stdout.write(`\n${markdown}`);
    const record = {
      date: new Date().toISOString(),
      environment: {
        cpus: cpus().length,
        loadAverageAtStart: load1,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        pinning: cpu.note,
        node: process.version,
        nginx: versionOf(tools.nginx, ['-v']),
        haproxy: tools.haproxy === undefined ? undefined : versionOf(tools.haproxy, ['-v']),
        openssl: versionOf(tools.openssl, ['version']),
      },
      options: opts,
      pairs: results,
      ratios: ratios(results, opts.ratesRps),
      markdown,
    };
    mkdirSync(dirname(opts.outFile), { recursive: true });
    // Missing figures are written as null rather than dropped.
    const json = JSON.stringify(record, (_k, v: unknown) => (v === undefined ? null : v), 2);
    writeFileSync(opts.outFile, `${json}\n`);
    log(`wrote ${opts.outFile}`);
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    await backend?.stop();
    if (opts.keepDir) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
