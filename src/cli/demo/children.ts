// The demo's processes: each started with its output in a log file of its own (the console stays
// for the story), its lines watched for the one that says it is ready, and all of them stopped
// together, with SIGKILL for any that outlives its grace period.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the first line (stdout or stderr) `test` accepts; rejects on exit or after `ms`. */
  line(test: (line: string) => boolean, ms: number): Promise<string>;
  exited: Promise<number | null>;
}

export class Children {
  readonly #logDir: string;
  readonly #all: Child[] = [];

  constructor(logDir: string) {
    this.#logDir = logDir;
    mkdirSync(logDir, { recursive: true });
  }

  get all(): readonly Child[] {
    return this.#all;
  }

  start(name: string, command: string, args: string[], env: Record<string, string | undefined>): Child {
    const logFile = join(this.#logDir, `${name}.log`);
    const log: WriteStream = createWriteStream(logFile);
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: string[] = [];
    const watchers = new Set<(line: string) => void>();
    let partial = '';
    const onData = (d: Buffer) => {
      log.write(d);
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (seen.length < 200) seen.push(line);
        for (const w of watchers) w(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        log.end();
        resolve(code);
      }),
    );
    child.once('error', () => undefined);
    const c: Child = {
      name,
      process: child,
      logFile,
      exited,
      line: (test, ms) =>
        new Promise((resolve, reject) => {
          const hit = seen.find(test);
          if (hit !== undefined) {
            resolve(hit);
            return;
          }
          const timer = setTimeout(() => {
            watchers.delete(watch);
            reject(new Error(`${name} was not ready within ${ms / 1000}s (see ${logFile})`));
          }, ms);
          const watch = (line: string) => {
            if (!test(line)) return;
            clearTimeout(timer);
            watchers.delete(watch);
            resolve(line);
          };
          watchers.add(watch);
          void exited.then((code) => {
            if (!watchers.has(watch)) return;
            clearTimeout(timer);
            watchers.delete(watch);
            reject(new Error(`${name} exited (${code}) before it was ready: see ${logFile}`));
          });
        }),
    };
    this.#all.push(c);
    return c;
  }

  /** SIGTERM to each of `which` (all by default) at once; SIGKILL after `graceMs`; resolves when all have exited. */
  async stop(graceMs: number, which: readonly Child[] = this.#all): Promise<void> {
    await Promise.all(
      which.map(async (c) => {
        if (c.process.exitCode !== null || c.process.signalCode !== null) return;
        c.process.kill('SIGTERM');
        const timer = setTimeout(() => c.process.kill('SIGKILL'), graceMs);
        await c.exited;
        clearTimeout(timer);
      }),
    );
  }
}
