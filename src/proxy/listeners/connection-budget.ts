// The cap on open downstream connections over every listener (Envoy's overload manager with its
// downstream_connections monitor): the configured maximum, and never more than the process's file
// descriptor limit allows while it keeps descriptors for upstream connections, the admin port and its
// own files. The listener set takes a slot per accepted connection and closes those it cannot seat.

import { readFileSync } from 'node:fs';

/** Descriptors kept back from the limit: listeners, the admin port and its callers, logs, config files, Node's own. */
export const FD_RESERVE = 64;

export class ConnectionBudget {
  /** The most downstream connections open at once. */
  readonly limit: number;
  #open = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get open(): number {
    return this.#open;
  }

  /** Seats one more connection; false when the budget is spent (close the connection). */
  tryTake(): boolean {
    if (this.#open >= this.limit) return false;
    this.#open++;
    return true;
  }

  release(): void {
    this.#open--;
  }
}

/**
 * The cap for a configured maximum under a descriptor limit (undefined: unknown, no cap from it). A
 * downstream connection may need an upstream one too (a pool connection, a TCP relay), so the
 * downstream side gets at most half of what the reserve leaves.
 */
export function downstreamCap(configured: number, fdLimit: number | undefined): number {
  if (fdLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, Math.floor((fdLimit - FD_RESERVE) / 2)));
}

/**
 * The process's open-file limit (RLIMIT_NOFILE; Node raises the soft limit to the hard one as it
 * starts), read from /proc/self/limits. Undefined where that is not there (not Linux) or unlimited.
 */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
}
