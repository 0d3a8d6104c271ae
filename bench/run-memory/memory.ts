// Memory and CPU of processes read from /proc (Linux only): VmRSS and RssAnon from status, Pss from
// smaps_rollup, CPU ticks from stat. Sums over a group of processes, a sampler that keeps the peak
// of each sum, and a wait for the mesh to go quiet (its processes using next to no CPU).

import { readFileSync } from 'node:fs';

/** Memory of one process or the sum over a group, in KiB. */
export interface Memory {
  /** Every resident page, those shared with other processes (the node binary, libraries) included. */
  rssKiB: number;
  /** Resident pages no file backs: the heap, stacks, buffers; what each more process adds. */
  rssAnonKiB: number;
  /** Proportional set size: each shared page divided among the processes that map it. */
  pssKiB: number;
}

export const ZERO: Memory = { rssKiB: 0, rssAnonKiB: 0, pssKiB: 0 };

function kiB(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

/** The memory of `pid`; zeros once it has gone. */
export function memoryOf(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rssKiB: kiB(status, 'VmRSS'), rssAnonKiB: kiB(status, 'RssAnon'), pssKiB: kiB(rollup, 'Pss') };
  } catch {
    return ZERO;
  }
}

export function sum(ms: readonly Memory[]): Memory {
  return ms.reduce(
    (a, m) => ({
      rssKiB: a.rssKiB + m.rssKiB,
      rssAnonKiB: a.rssAnonKiB + m.rssAnonKiB,
      pssKiB: a.pssKiB + m.pssKiB,
    }),
    ZERO,
  );
}

const max = (a: Memory, b: Memory): Memory => ({
  rssKiB: Math.max(a.rssKiB, b.rssKiB),
  rssAnonKiB: Math.max(a.rssAnonKiB, b.rssAnonKiB),
  pssKiB: Math.max(a.pssKiB, b.pssKiB),
});

/** A group's total now, and each member's figures. */
export interface GroupReading {
  total: Memory;
  each: Memory[];
}

export function readGroup(pids: readonly number[]): GroupReading {
  const each = pids.map(memoryOf);
  return { total: sum(each), each };
}

/**
 * Reads each group every `everyMs` until stopped: the peak of each group's total (each figure's own
 * peak) and the last reading.
 */
export function sampleGroups<K extends string>(groups: Record<K, readonly number[]>, everyMs: number) {
  const keys = Object.keys(groups) as K[];
  const peak = {} as Record<K, Memory>;
  const last = {} as Record<K, GroupReading>;
  let samples = 0;
  const read = () => {
    samples++;
    for (const k of keys) {
      last[k] = readGroup(groups[k]);
      peak[k] = max(peak[k] ?? ZERO, last[k].total);
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop(): { peak: Record<K, Memory>; last: Record<K, GroupReading>; samples: number } {
      clearInterval(timer);
      read();
      return { peak, last, samples };
    },
  };
}

/** User + system CPU ticks (USER_HZ, 100 a second on common builds) the processes have used. */
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks;
}

const TICKS_PER_S = 100;

/**
 * Waits until the processes together have used under `maxCpuShare` of one core over each of the
 * last `quietMs`, polling every 500 ms; gives up after `timeoutMs`. Resolves with how long it waited
 * and whether the mesh went quiet.
 */
export async function waitQuiet(
  pids: () => readonly number[],
  o: { quietMs: number; maxCpuShare: number; timeoutMs: number },
): Promise<{ waitedMs: number; isQuiet: boolean; cpuShare: number }> {
  const started = performance.now();
  const stepMs = 500;
  const window: number[] = [cpuTicks(pids())];
  const span = Math.ceil(o.quietMs / stepMs);
  let share = Number.NaN;
  while (performance.now() - started < o.timeoutMs) {
    await new Promise((r) => setTimeout(r, stepMs));
    window.push(cpuTicks(pids()));
    if (window.length > span + 1) window.shift();
    if (window.length <= span) continue;
    share = ((window.at(-1) as number) - (window[0] as number)) / TICKS_PER_S / (o.quietMs / 1000);
    if (share < o.maxCpuShare)
      return { waitedMs: performance.now() - started, isQuiet: true, cpuShare: share };
  }
  return { waitedMs: performance.now() - started, isQuiet: false, cpuShare: share };
}
