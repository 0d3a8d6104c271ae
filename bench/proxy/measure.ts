// Measures one running pair: idle RSS, a warm-up, each fixed rate (latency from the load generator,
// CPU seconds of A and B from /proc around the phase), then the closed-loop maximum throughput with
// RSS sampled while it runs. report.ts turns the results into tables.

import { type LoadResult, runLoadgen } from './loadgen.ts';
import type { BenchOptions } from './options.ts';
import type { RunningPair } from './pair.ts';
import { cpuSeconds, rssBytes } from './proc-stats.ts';

/** A figure for proxy A, proxy B, and their sum. */
export interface PerProxy {
  a: number;
  b: number;
  total: number;
}

export interface RatePhase {
  targetRps: number;
  load: LoadResult;
  /** CPU seconds (user + system) per 1,000 completed requests; undefined for `direct`. */
  cpuSecondsPer1kRequests: PerProxy | undefined;
}

export interface PairMeasurements {
  /** RSS a second after start, before any request (nginx: master + worker). */
  rssIdleBytes: PerProxy | undefined;
  /** Peak RSS sampled every 250 ms during the max-throughput phase. */
  rssLoadBytes: PerProxy | undefined;
  rates: RatePhase[];
  max: LoadResult;
}

export interface MeasureEnv {
  loadgen: string;
  /** taskset CPU list for the load generator. */
  loadCpuList: string | undefined;
  log: (line: string) => void;
}

const RSS_SAMPLE_MS = 250;
const SETTLE_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function perProxy(pair: RunningPair, read: (pid: number) => number): PerProxy | undefined {
  if (pair.proxies === undefined) return undefined;
  const a = read(pair.proxies.a.pid);
  const b = read(pair.proxies.b.pid);
  return { a, b, total: a + b };
}

export async function measurePair(
  name: string,
  pair: RunningPair,
  opts: BenchOptions,
  env: MeasureEnv,
): Promise<PairMeasurements> {
  const phase = (rate: number | 'max', durationS: number, connections: number) =>
    runLoadgen({
      binary: env.loadgen,
      port: pair.port,
      hostHeader: pair.hostHeader,
      rate,
      connections,
      durationS,
      cpuList: env.loadCpuList,
    });
  await sleep(2 * SETTLE_MS);
  const rssIdleBytes = perProxy(pair, rssBytes);
  const topRate = Math.max(...opts.ratesRps);
  if (opts.warmupS > 0) {
    env.log(`${name}: warm-up ${opts.warmupS} s at ${topRate} req/s`);
    await phase(topRate, opts.warmupS, opts.connections);
  }

  const rates: RatePhase[] = [];
  for (const targetRps of opts.ratesRps) {
    await sleep(SETTLE_MS);
    env.log(`${name}: ${targetRps} req/s for ${opts.durationS} s over ${opts.connections} connections`);
    const before = perProxy(pair, cpuSeconds);
    const load = await phase(targetRps, opts.durationS, opts.connections);
    const after = perProxy(pair, cpuSeconds);
    const per1k = (used: number) => (load.completed > 0 ? (used / load.completed) * 1000 : Number.NaN);
    const cpu =
      before && after
        ? {
            a: per1k(after.a - before.a),
            b: per1k(after.b - before.b),
            total: per1k(after.total - before.total),
          }
        : undefined;
    rates.push({ targetRps, load, cpuSecondsPer1kRequests: cpu });
    env.log(
      `${name}: ${targetRps} req/s → p50 ${load.p50Ms.toFixed(3)} ms, p99 ${load.p99Ms.toFixed(3)} ms, ` +
        `${load.errors} errors`,
    );
  }

  await sleep(SETTLE_MS);
  env.log(`${name}: max throughput for ${opts.maxDurationS} s over ${opts.maxConnections} connections`);
  let peak: PerProxy | undefined;
  const sampler = setInterval(() => {
    const now = perProxy(pair, rssBytes);
    if (now === undefined) return;
    peak = peak
      ? { a: Math.max(peak.a, now.a), b: Math.max(peak.b, now.b), total: Math.max(peak.total, now.total) }
      : now;
  }, RSS_SAMPLE_MS);
  try {
    const max = await phase('max', opts.maxDurationS, opts.maxConnections);
    env.log(`${name}: max throughput ${Math.round(max.achievedRps)} req/s, ${max.errors} errors`);
    return { rssIdleBytes, rssLoadBytes: peak, rates, max };
  } finally {
    clearInterval(sampler);
  }
}
