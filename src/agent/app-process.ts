// The app a workload runs, as `alder run` supervises it: started with the mesh's environment once
// its proxy is ready, sent the signals the supervisor gets, stopped with SIGTERM and then SIGKILL
// after a grace period, and its exit status passed on as a shell reports it (the code, or 128 plus
// the number of the signal that ended it; 127 when the command is not found, 126 when it cannot run).

import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface AppOptions {
  command: string;
  args: readonly string[];
  /** The whole environment the app gets. */
  env: Record<string, string | undefined>;
  /** Where the app's output goes: the supervisor's own (inherit) by default. */
  stdio?: 'inherit' | 'pipe';
}

/** The exit status of a command that could not be started, as sh reports it. */
const NOT_FOUND = 127;
const NOT_EXECUTABLE = 126;

export class AppProcess {
  readonly child: ChildProcess;
  /** Resolves with the app's exit status once it has ended (never rejects). */
  readonly exited: Promise<number>;
  /** Why the app could not be started, when it could not. */
  startError: string | undefined;
  #hasExited = false;

  private constructor(options: AppOptions) {
    this.child = spawn(options.command, [...options.args], {
      env: options.env,
      stdio: options.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        if (this.child.pid !== undefined) return; // a signal that could not be sent; 'exit' follows
        this.#hasExited = true;
        this.startError = `cannot run ${options.command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`;
        resolve(err.code === 'ENOENT' ? NOT_FOUND : NOT_EXECUTABLE);
      });
      this.child.once('exit', (code, signal) => {
        this.#hasExited = true;
        resolve(exitStatus(code, signal));
      });
    });
  }

  static start(options: AppOptions): AppProcess {
    return new AppProcess(options);
  }

  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** Passes a signal on to the app (nothing once it has ended). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#hasExited) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the app is still running after `graceMs`; resolves with its status. */
  async stop(graceMs: number): Promise<number> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

/** A shell's exit status: the code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : constants.signals[signal];
  return 128 + (n ?? 0);
}

/**
 * Passes each of `signals` the supervisor gets on to the app, and calls `onSignal` (the supervisor
 * starts its own shutdown). Returns what undoes it.
 */
export function forwardSignals(
  app: AppProcess,
  onSignal: (signal: NodeJS.Signals) => void,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'],
): () => void {
  const handlers = signals.map((signal) => {
    const handler = () => {
      app.signal(signal);
      onSignal(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
