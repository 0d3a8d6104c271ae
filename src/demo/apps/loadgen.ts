// The demo's load generator: a steady rate of GETs through the mesh (LOADGEN_TARGET via HTTP_PROXY),
// counted by outcome (status or error code) and by the reviews version that answered. Prints a JSON
// summary every LOADGEN_REPORT_MS and serves it at GET /stats. In-flight requests are capped: a tick
// that finds the cap reached is counted as skipped, so a slow target is not piled on.
// Run: node src/demo/apps/loadgen.ts (PORT, default 9099; ALDER_APP_ADDRESS, default 127.0.0.1).

import { randomUUID } from 'node:crypto';
import {
  exitOnFatalError,
  type Handler,
  type Part,
  sendJson,
  serveHttp,
  stopOnSignal,
} from './app-server.ts';
import { CallError } from './call-error.ts';
import { logLine } from './log.ts';
import { MeshClient } from './mesh-client.ts';

const NAME = 'loadgen';
exitOnFatalError(NAME);

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const rps = numberFromEnv('LOADGEN_RPS', 5, 0.01, 1000);
const target = process.env.LOADGEN_TARGET || 'http://productpage.bookinfo:9080/api/v1/products/0';
if (!URL.canParse(target) || new URL(target).protocol !== 'http:') {
  throw new Error(`LOADGEN_TARGET must be an http:// URL, got ${JSON.stringify(target)}`);
}
const reportMs = numberFromEnv('LOADGEN_REPORT_MS', 5_000, 50, 3_600_000);
const timeoutMs = numberFromEnv('LOADGEN_TIMEOUT_MS', 10_000, 10, 600_000);
const maxInFlight = numberFromEnv('LOADGEN_MAX_IN_FLIGHT', Math.max(2, Math.ceil(rps * 2)), 1, 10_000);
const user = process.env.LOADGEN_USER || undefined;
/** Latencies kept per report interval for its percentiles. */
const MAX_SAMPLES = 10_000;

const mesh = MeshClient.fromEnv();

interface Window {
  ok: number;
  failed: number;
  latenciesMs: number[];
}

const totals = {
  sent: 0,
  ok: 0,
  failed: 0,
  skipped: 0,
  byStatus: {} as Record<string, number>,
  byError: {} as Record<string, number>,
  byVersion: {} as Record<string, number>,
};
let inFlight = 0;
let onIdle: (() => void) | undefined;
let recent: Window = { ok: 0, failed: 0, latenciesMs: [] };
let lastWindow: Window = recent;

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function rate(ok: number, failed: number): number | null {
  return ok + failed === 0 ? null : Math.round((ok / (ok + failed)) * 10_000) / 10_000;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The counts since start, and the last full report interval's. */
function summary() {
  const sorted = [...lastWindow.latenciesMs].sort((a, b) => a - b);
  return {
    msg: 'load',
    target,
    rps,
    ...totals,
    inFlight,
    successRate: rate(totals.ok, totals.failed),
    recent: {
      ok: lastWindow.ok,
      failed: lastWindow.failed,
      successRate: rate(lastWindow.ok, lastWindow.failed),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
    },
  };
}

async function sendOne(): Promise<void> {
  const headers: Record<string, string> = {
    'user-agent': 'alder-demo-loadgen',
    'x-request-id': randomUUID(),
    accept: 'application/json',
  };
  if (user !== undefined) headers.cookie = `user=${user}`;
  const started = performance.now();
  const window = recent;
  let isOk = false;
  try {
    const answer = await mesh.request(target, { headers, timeoutMs });
    isOk = answer.status >= 200 && answer.status < 300;
    bump(totals.byStatus, String(answer.status));
    const version = reviewsVersionOf(answer.body);
    if (version !== undefined) bump(totals.byVersion, version);
  } catch (e) {
    bump(totals.byError, e instanceof CallError ? e.code : 'UNKNOWN');
  }
  if (isOk) {
    totals.ok++;
    window.ok++;
  } else {
    totals.failed++;
    window.failed++;
  }
  if (window.latenciesMs.length < MAX_SAMPLES)
    window.latenciesMs.push(Math.round(performance.now() - started));
}

function reviewsVersionOf(body: Buffer): string | undefined {
  try {
    const v = (JSON.parse(body.toString()) as { reviewsVersion?: unknown }).reviewsVersion;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function tick(): void {
  if (inFlight >= maxInFlight) {
    totals.skipped++;
    return;
  }
  totals.sent++;
  inFlight++;
  void sendOne().finally(() => {
    inFlight--;
    if (inFlight === 0) onIdle?.();
  });
}

function report(): void {
  lastWindow = recent;
  recent = { ok: 0, failed: 0, latenciesMs: [] };
  process.stdout.write(`${JSON.stringify(summary())}\n`);
}

const handle: Handler = async (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (path === '/stats') return sendJson(res, 200, summary());
  sendJson(res, 404, { error: 'not found', detail: 'want GET /stats or /health' });
};

const { part: statsServer } = await serveHttp(NAME, 9099, handle);
const ticker = setInterval(tick, 1000 / rps);
const reporter = setInterval(report, reportMs);
logLine(NAME, 'info', 'sending', { target, rps, maxInFlight, timeoutMs, proxy: mesh.proxy?.host ?? null });

const generator: Part = {
  drain: async () => {
    clearInterval(ticker);
    clearInterval(reporter);
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        onIdle = resolve;
      });
    }
    report();
  },
  destroy: () => {},
};
stopOnSignal(NAME, [
  generator,
  statsServer,
  { drain: async () => mesh.close(), destroy: () => mesh.close() },
]);
