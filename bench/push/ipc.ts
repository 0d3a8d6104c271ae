// Request/answer over a child process's IPC channel: the bench's parent asks, the child answers
// once per request. Every request has a timeout, and a child that exits fails what it owed.

import { type ChildProcess, fork } from 'node:child_process';

interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across the bench's processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly #waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #nextId = 0;
  #exited: string | undefined;

  constructor(name: string, script: string, options: { execArgv?: string[]; cpuList?: string | undefined }) {
    this.name = name;
    const execArgv = options.execArgv ?? [];
    this.process =
      options.cpuList === undefined
        ? fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : fork(script, [], {
            execPath: 'taskset',
            execArgv: ['-c', options.cpuList, process.execPath, ...execArgv],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
    this.process.on('message', (m: Answer) => {
      const w = this.#waiting.get(m.id);
      if (w === undefined) return;
      this.#waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`${this.name}: ${m.error}`));
    });
    this.process.on('exit', (code, signal) => {
      this.#exited = `${this.name} exited (code ${code}, signal ${signal})`;
      for (const w of this.#waiting.values()) w.reject(new Error(this.#exited));
      this.#waiting.clear();
    });
  }

  /** Sends `cmd` with `args`; rejects after `timeoutMs` or when the child exits. */
  ask<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited !== undefined) return Promise.reject(new Error(this.#exited));
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, cmd, ...args });
    });
  }

  /** Waits up to `timeoutMs` for the child to exit, then kills it. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** The child's side: runs one handler per command and answers with its result or error. */
export function serve(handlers: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on('message', async (m: { id: number; cmd: string } & Record<string, unknown>) => {
    const handler = handlers[m.cmd];
    try {
      if (handler === undefined) throw new Error(`unknown command ${m.cmd}`);
      const result = await handler(m);
      process.send?.({ id: m.id, ok: true, result } satisfies Answer);
    } catch (err) {
      process.send?.({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) } satisfies Answer);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
