// CPU time of the whole machine from /proc/stat (Linux), so the harness can tell how much CPU went to
// anything but A, B and itself during a phase: other processes, kernel workers, idle-time interrupts.

import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/stat counts in these ticks; 100 on every common Linux build. */
const TICKS_PER_S = 100;

/**
 * Busy CPU seconds of all CPUs since boot (everything but idle and iowait), or NaN off Linux. Soft
 * interrupt time counts: the kernel charges much of it to the process it interrupted, as its own.
 */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (f[i] ?? 0), 0);
    return busy / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** CPU not charged to this process over `ms`, in cores (A and B are idle meanwhile). */
export async function otherCoresOver(ms: number): Promise<number> {
  const machine0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const own = process.cpuUsage(own0);
  const other = machineBusySeconds() - machine0 - (own.user + own.system) / 1e6;
  return Math.max(0, other) / (ms / 1000);
}

/**
 * Waits, up to `maxWaitS`, for a half second in which the rest of the machine used less than
 * `thresholdCores`. Resolves with the last figure seen, in cores.
 */
export async function waitForQuiet(o: { maxWaitS: number; thresholdCores: number }): Promise<number> {
  const deadline = performance.now() + o.maxWaitS * 1000;
  for (;;) {
    const other = await otherCoresOver(500);
    if (!(other >= o.thresholdCores) || performance.now() >= deadline) return other;
  }
}
