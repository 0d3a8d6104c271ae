// Config distribution benchmark: a control plane in its own process, N simulated proxies on real
// mTLS streams in one or two others; times each config change from the store write to every
// proxy's ACK, and measures bytes, pushes, control-plane memory and CPU per proxy. Prints markdown
// tables on stdout, progress on stderr, and writes bench/results/push-<date>.json.
// Run: npm run bench:push [-- --quick]. See README.md here.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { makeCerts } from './certs.ts';
import { NAMESPACE, SHAPES, serviceAccountOfShape } from './mesh-config.ts';
import { type PushBenchOptions, parseOptions, USAGE } from './options.ts';
import { summarizeProfile } from './profile-summary.ts';
import { markdownReport, targetChecks } from './report.ts';
import { type RoundResult, runRound } from './round.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BURST_PROXIES = 100;
const log = (line: string) => process.stderr.write(`[bench:push] ${line}\n`);

/** The soft limit on open files, from /proc/self/limits (children inherit it). */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? Number.NaN);
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Control plane on CPU 1, proxies and this harness on CPU 0, so the proxies do not take the control plane's core. */
function cpuPlan(opts: PushBenchOptions) {
  if (!opts.isPinned) return { controlPlane: undefined, proxies: undefined, note: 'not pinned (--no-pin)' };
  if (!hasTaskset() || cpus().length < 2) {
    return { controlPlane: undefined, proxies: undefined, note: 'not pinned (needs taskset and 2 CPUs)' };
  }
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  return {
    controlPlane: '1',
    proxies: '0',
    note: 'control plane on CPU 1; simulated proxies and harness on CPU 0',
  };
}

async function main(): Promise<number> {
  let opts: PushBenchOptions | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const fdLimit = openFilesLimit();
  const largest = Math.max(...opts.proxies);
  // The control plane holds one socket per proxy; the proxies' process holds as many (split in two past 1,000).
  if (largest + 200 > fdLimit) {
    process.stderr.write(
      `error: ${largest} proxies need about ${largest + 200} open files in the control plane, the limit is ${fdLimit}: raise it (ulimit -n) or lower --proxies\n`,
    );
    return 2;
  }
  const [load1] = loadavg();
  if ((load1 ?? 0) > 0.5)
    log(`warning: load average ${load1?.toFixed(2)}: other work on this machine adds noise`);
  const cpuList = cpuPlan(opts);
  log(`pinning: ${cpuList.note}; open files limit ${fdLimit}`);
  const dir = mkdtempSync(join(tmpdir(), 'alder-bench-push-'));
  const cpuProfDir = opts.cpuProfDir === undefined ? undefined : resolve(opts.cpuProfDir);
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
  try {
    const accounts = Array.from({ length: SHAPES }, (_, i) => ({
      namespace: NAMESPACE,
      name: serviceAccountOfShape(i),
    }));
    const certs = makeCerts(dir, accounts);
    const base = { services: opts.services, repeats: opts.repeats, dir, certs, cpuList, cpuProfDir, log };
    const rounds: RoundResult[] = [];
    const failed: { proxies: number; error: string }[] = [];
    // A round that fails is reported and the others still run.
    const round = async (setup: Parameters<typeof runRound>[0]) => {
      try {
        rounds.push(await runRound(setup));
      } catch (err) {
        const error = (err as Error).message;
        log(`${setup.proxies} proxies: failed: ${error}`);
        failed.push({ proxies: setup.proxies, error });
      }
    };
    for (const proxies of opts.proxies) {
      const burst = proxies === BURST_PROXIES ? opts.burst : 0;
      await round({ ...base, proxies, burst, doChanges: true });
    }
    if (opts.burst > 0 && !opts.proxies.includes(BURST_PROXIES)) {
      await round({ ...base, proxies: BURST_PROXIES, burst: opts.burst, doChanges: false });
    }
    const markdown = `${markdownReport(rounds)}${failed.map((f) => `\nRound with ${f.proxies} proxies failed: ${f.error}\n`).join('')}`;
    process.stdout.write(`\n${markdown}`);
    const profiles: Record<string, unknown> = {};
    if (cpuProfDir !== undefined) {
      for (const r of rounds) {
        const file = join(cpuProfDir, `push-control-plane-${r.proxies}.cpuprofile`);
        const top = summarizeProfile(file, 25);
        profiles[String(r.proxies)] = top;
        process.stdout.write(`\nControl plane with ${r.proxies} proxies, self time by function (${file}):\n`);
        for (const t of top)
          process.stdout.write(
            `${t.selfMs.toFixed(0).padStart(8)} ms ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.function}\n`,
          );
      }
    }
    const date = new Date();
    const record = {
      date: date.toISOString(),
      environment: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverageAtStart: load1,
        pinning: cpuList.note,
        openFilesLimit: fdLimit,
        node: process.version,
      },
      options: opts,
      rounds,
      failed,
      targets: targetChecks(rounds),
      profiles,
      markdown,
    };
    const outFile =
      opts.outFile ?? join(ROOT, 'bench', 'results', `push-${date.toISOString().slice(0, 10)}.json`);
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(
      outFile,
      `${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
    );
    log(`wrote ${outFile}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
