// The processes of one measured mesh: each started with its output in a log file of its own, its
// lines watched for the one that says it is ready, and stopped with SIGTERM, then SIGKILL after a
// grace period. Every process still running when the harness exits is killed, so a failed or
// interrupted run leaves nothing behind.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Proc {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the first output line (stdout or stderr) `test` accepts; rejects on exit or after `ms`. */
  line(test: (line: string) => boolean, ms: number): Promise<string>;
  /** Resolves with the exit code, or the signal's name, once the process has gone. */
  exited: Promise<string>;
  isRunning(): boolean;
}

const running = new Set<ChildProcess>();
/** Pids the harness learnt of (an app under alder run) that must not outlive it, with a word of their command line. */
const strays = new Map<number, string>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  killStrays();
});

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Lines kept per process for ready checks that come after the line was printed. */
const KEPT_LINES = 400;

export function startProc(o: {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
}): Proc {
  const logFile = join(o.logDir, `${o.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(o.command, o.args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  running.add(child);
  const seen: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const partial = { stdout: '', stderr: '' };
  const onData = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
    log.write(d);
    const lines = (partial[stream] + d.toString()).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (seen.length < KEPT_LINES) seen.push(line);
      for (const w of watchers) w(line);
    }
  };
  child.stdout?.on('data', onData('stdout'));
  child.stderr?.on('data', onData('stderr'));
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      log.end();
      resolve(signal ?? String(code));
    });
  });
  child.once('error', () => undefined);
  return {
    name: o.name,
    pid: child.pid,
    logFile,
    exited,
    isRunning: () => running.has(child),
    line: (test, ms) =>
      new Promise((resolve, reject) => {
        const hit = seen.find(test);
        if (hit !== undefined) return resolve(hit);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${o.name} was not ready within ${ms / 1000}s (see ${logFile})`));
        }, ms);
        const watch = (line: string) => {
          if (!test(line)) return;
          done();
          resolve(line);
        };
        watchers.add(watch);
        void exited.then((code) => {
          if (!watchers.has(watch)) return;
          done();
          reject(new Error(`${o.name} exited (${code}) before it was ready (see ${logFile})`));
        });
      }),
  };
}

/**
 * Remembers a pid to SIGKILL at the end, if it still runs then and its command line still holds
 * `word` (so that a pid the system gave to another process since is left alone).
 */
export function killAtEnd(pid: number, word: string): void {
  strays.set(pid, word);
}

/**
 * SIGTERM to each of `procs` at once, SIGKILL to any still running after `graceMs`; resolves when
 * all have gone, with the names of those that needed SIGKILL.
 */
export async function stopAll(procs: readonly Proc[], graceMs: number): Promise<string[]> {
  const killed: string[] = [];
  await Promise.all(
    procs.map(async (p) => {
      if (!p.isRunning()) return;
      killQuietly(p.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        killed.push(p.name);
        killQuietly(p.pid, 'SIGKILL');
      }, graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
  return killed;
}

/** SIGKILL to the remembered pids that still run (apps whose alder run was killed). */
export function killStrays(): void {
  for (const [pid, word] of strays) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    if (cmdline.includes(word)) killQuietly(pid, 'SIGKILL');
  }
  strays.clear();
}
