// Process A's load drivers over one transport: the open loop at a fixed rate (latency counted from
// each request's due time, so queueing shows), the closed loop for maximum throughput, and the loop
// of new connections for the handshake cost. Each returns what it saw, with A's CPU time.

import { cpuSecondsNow, type LoadResult } from './protocol.ts';
import { sendOnce, type Transport } from './transport.ts';

/** Request numbers grow across phases, so every x-request-id is fresh. */
let nextRequest = 0;

interface Samples {
  latencies: Float64Array;
  count: number;
}

/** Nearest rank: the smallest sample with at least a fraction p of all samples at or below it. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : (sorted[Math.ceil(p * sorted.length) - 1] ?? Number.NaN);
}

function summarize(
  s: Samples,
  o: { errors: number; elapsedS: number; cpuS: number; sendLags?: Samples },
): LoadResult {
  const sorted = s.latencies.subarray(0, s.count).sort();
  const at = (p: number) => percentile(sorted, p);
  const lags =
    o.sendLags === undefined
      ? new Float64Array(0)
      : o.sendLags.latencies.subarray(0, o.sendLags.count).sort();
  return {
    completed: s.count,
    errors: o.errors,
    elapsedS: o.elapsedS,
    achievedRps: o.elapsedS > 0 ? s.count / o.elapsedS : 0,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: s.count === 0 ? Number.NaN : (sorted[s.count - 1] ?? Number.NaN),
    sendLagP50Ms: percentile(lags, 0.5),
    sendLagP99Ms: percentile(lags, 0.99),
    cpuS: o.cpuS,
  };
}

export interface RateOptions {
  rps: number;
  durationS: number;
  /** How long to wait for answers after the last due time; the unanswered count as errors. */
  drainS: number;
}

/**
 * Open loop: request k is due at t0 + k/rps whatever happened before. Node's timers fire at 1 ms at
 * best, so the sender wakes on its timer and after every answer and sends all that are due; a request
 * sent late has the lateness in its latency. `isClean` says every request was answered in time.
 */
export function runRate(t: Transport, o: RateOptions): Promise<{ result: LoadResult; isClean: boolean }> {
  const total = Math.max(1, Math.round(o.rps * o.durationS));
  const intervalMs = 1000 / o.rps;
  const samples: Samples = { latencies: new Float64Array(total), count: 0 };
  const sendLags: Samples = { latencies: new Float64Array(total), count: 0 };
  let errors = 0;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const cpu0 = cpuSecondsNow();
  const t0 = performance.now() + 2;
  let lastAnswer = t0;
  let isFinished = false;
  return new Promise((resolve) => {
    const finish = () => {
      if (isFinished) return;
      isFinished = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      const elapsedS = (lastAnswer - t0) / 1000;
      const unanswered = total - samples.count - errors;
      const cpuS = cpuSecondsNow() - cpu0;
      resolve({
        result: summarize(samples, { errors: errors + unanswered, elapsedS, cpuS, sendLags }),
        isClean: unanswered === 0,
      });
    };
    const drainTimer = setTimeout(finish, o.durationS * 1000 + o.drainS * 1000 + 2);
    const pump = () => {
      const now = performance.now();
      while (sent < total && t0 + sent * intervalMs <= now) {
        const due = t0 + sent * intervalMs;
        sent++;
        sendLags.latencies[sendLags.count++] = now - due;
        t.send(nextRequest++, (isOk) => {
          if (isFinished) return;
          lastAnswer = performance.now();
          if (isOk) samples.latencies[samples.count++] = lastAnswer - due;
          else errors++;
          if (samples.count + errors === total) finish();
          else pump();
        });
      }
      if (sent < total && timer === undefined) {
        timer = setTimeout(
          () => {
            timer = undefined;
            pump();
          },
          Math.max(0, t0 + sent * intervalMs - now),
        );
      }
    };
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, 2);
  });
}

export interface ClosedOptions {
  concurrency: number;
  durationS: number;
}

/** Closed loop: `concurrency` senders, each sending its next request when its answer has ended. */
export function runMax(t: Transport, o: ClosedOptions): Promise<{ result: LoadResult; isClean: boolean }> {
  const samples: Samples = { latencies: new Float64Array(1 << 22), count: 0 };
  let errors = 0;
  let active = o.concurrency;
  const cpu0 = cpuSecondsNow();
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  return new Promise((resolve) => {
    const next = () => {
      const sentAt = performance.now();
      t.send(nextRequest++, (isOk) => {
        const now = performance.now();
        if (isOk && samples.count < samples.latencies.length)
          samples.latencies[samples.count++] = now - sentAt;
        else errors++;
        if (now < end && isOk) {
          next();
          return;
        }
        if (--active > 0) return;
        resolve({
          result: summarize(samples, { errors, elapsedS: (now - t0) / 1000, cpuS: cpuSecondsNow() - cpu0 }),
          isClean: errors === 0,
        });
      });
    };
    for (let i = 0; i < o.concurrency; i++) next();
  });
}

/**
 * New connections back to back, `concurrency` at a time: each opens the transport (TCP, a full mTLS
 * handshake, and for h2 and HBONE the session and CONNECT set-up), sends one request and closes.
 * Latency here is the whole of that, per connection.
 */
export async function runHandshakes(
  open: () => Promise<Transport>,
  o: ClosedOptions,
): Promise<{ result: LoadResult; isClean: boolean }> {
  const samples: Samples = { latencies: new Float64Array(1 << 20), count: 0 };
  let errors = 0;
  const cpu0 = cpuSecondsNow();
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      let t: Transport | undefined;
      try {
        t = await open();
        await sendOnce(t, nextRequest++);
        if (samples.count < samples.latencies.length)
          samples.latencies[samples.count++] = performance.now() - start;
      } catch {
        errors++;
      } finally {
        t?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  return {
    result: summarize(samples, { errors, elapsedS, cpuS: cpuSecondsNow() - cpu0 }),
    isClean: errors === 0,
  };
}
