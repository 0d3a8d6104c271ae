// Envoy's priority load and panic, for the balancer to rerun when endpoint health changes: each
// priority's health is min(100, 1.4 × healthy%), load goes to the best priorities until it adds
// up to 100, and a priority under the panic threshold balances over all its hosts, ejected included.

/** Envoy's default overprovisioning factor, in percent (1.4). */
export const OVERPROVISIONING_FACTOR_PERCENT = 140;

export interface PriorityHealth {
  hosts: number;
  healthy: number;
}

export interface PriorityLoad {
  /** Percent of requests per priority; sums to 100. */
  loads: number[];
  /** Per priority: use all hosts, not just the healthy ones. */
  isPanic: boolean[];
}

/**
 * Envoy's recalculatePerPriorityState + recalculatePerPriorityPanic (healthy hosts by count, no
 * degraded hosts). `panicThresholdPercent` is Istio's minHealthPercent (0: panic never).
 */
export function computePriorityLoad(
  levels: readonly PriorityHealth[],
  panicThresholdPercent: number,
): PriorityLoad {
  const health = levels.map((l) =>
    l.hosts === 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING_FACTOR_PERCENT * l.healthy) / l.hosts)),
  );
  const normalizedTotal = Math.min(
    100,
    health.reduce((a, b) => a + b, 0),
  );
  const loads = levels.map(() => 0);
  const isPanic = levels.map(() => false);
  if (normalizedTotal > 0) {
    let remaining = 100;
    for (let i = 0; i < levels.length; i++) {
      loads[i] = Math.min(remaining, Math.floor((health[i]! * 100) / normalizedTotal));
      remaining -= loads[i]!;
    }
    // Rounding leftovers go to the first priority with any health.
    loads[health.findIndex((h) => h > 0)]! += remaining;
  }
  const threshold = Math.min(100, panicThresholdPercent);
  if (threshold <= 0 && normalizedTotal === 0) {
    // Nothing healthy and panic off: all load to P0, where the pick finds no host.
    loads[0] = 100;
    return { loads, isPanic };
  }
  // Enough healthy capacity overall (100): no priority panics, however few healthy hosts it has.
  if (normalizedTotal === 100) return { loads, isPanic };
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    isPanic[i] = (l.hosts === 0 ? 0 : (100 * l.healthy) / l.hosts) < threshold;
  }
  if (isPanic.every(Boolean)) return { loads: loadsByHostCount(levels), isPanic };
  return { loads, isPanic };
}

/** Total panic: load follows each priority's share of all hosts, healthy or not. */
function loadsByHostCount(levels: readonly PriorityHealth[]): number[] {
  const total = levels.reduce((sum, l) => sum + l.hosts, 0);
  const loads = levels.map((l) => (total === 0 ? 0 : Math.floor((100 * l.hosts) / total)));
  const first = Math.max(
    0,
    levels.findIndex((l) => l.hosts > 0),
  );
  loads[first]! += 100 - loads.reduce((a, b) => a + b, 0);
  return loads;
}
