// CPU time and resident memory of a process and all its descendants (nginx master + worker, HAProxy,
// Node.js), read from /proc. Linux only; the harness measures nothing else about the proxies.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ): 100 on every common Linux build, getconf tells for sure. */
const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/PID/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process has gone
  }
}

/** The pid and every live descendant of it. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ppid = Number(statFields(pid)?.[1]); // field 4 of stat: state is [0], ppid is [1]
    if (!Number.isInteger(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const tree: number[] = [];
  for (const queue = [rootPid]; queue.length > 0; ) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** User + system CPU seconds used so far by the process tree (utime + stime, fields 14 and 15). */
export function cpuSeconds(rootPid: number): number {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    const f = statFields(pid);
    if (f !== undefined) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/** Resident set size of the process tree in bytes (sum of VmRSS). */
export function rssBytes(rootPid: number): number {
  let kib = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // the process has gone
    }
  }
  return kib * 1024;
}
