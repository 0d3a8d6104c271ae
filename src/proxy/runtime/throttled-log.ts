// Warnings about events a client can repeat at will (connections refused at the limit, handshakes
// that fail or time out): at most one line per second for each kind, saying how many it stands for.
// The counters on /stats still count every event; the log only must not grow with an attack.

import type { Logger } from '../../telemetry/index.ts';

const INTERVAL_MS = 1_000;

export class ThrottledLog {
  readonly #log: Logger;
  /** Per kind: when its last line went out, and the events since then that had none. */
  readonly #kinds = new Map<string, { at: number; unlogged: number }>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Logs `msg` unless a line of the same `kind` went out in the last second (then counts it for the next). */
  warn(kind: string, msg: string, fields: Record<string, unknown>): void {
    const now = performance.now();
    const last = this.#kinds.get(kind);
    if (last !== undefined && now - last.at < INTERVAL_MS) {
      last.unlogged++;
      return;
    }
    this.#kinds.set(kind, { at: now, unlogged: 0 });
    const unlogged = last?.unlogged ?? 0;
    this.#log.warn(msg, unlogged === 0 ? fields : { ...fields, alsoSinceLastLine: unlogged });
  }
}

const byLogger = new WeakMap<Logger, ThrottledLog>();

/** The throttled log writing to `log`, one per logger (so every connection path shares its seconds). */
export function throttledLog(log: Logger): ThrottledLog {
  let throttled = byLogger.get(log);
  if (throttled === undefined) {
    throttled = new ThrottledLog(log);
    byLogger.set(log, throttled);
  }
  return throttled;
}
