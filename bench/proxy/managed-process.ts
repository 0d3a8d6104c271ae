// Starts the benchmark's servers (backend, proxies) as child processes, optionally pinned with taskset,
// with their output in a log file; waits for their port; stops them by their own pid. Every process
// started here is also killed when the harness exits, so an aborted run leaves nothing behind.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process has gone. */
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** taskset CPU list (`1`, `0-1`); undefined runs unpinned. */
  cpuList: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Called with each line of standard output (it is also written to the log). */
  onStdoutLine?: (line: string) => void;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function startProcess(o: StartOptions): ManagedProcess {
  const [command, args] =
    o.cpuList === undefined ? [o.command, o.args] : ['taskset', ['-c', o.cpuList, o.command, ...o.args]];
  // taskset execs the command, so the child's pid is the server's own.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  running.add(child);
  const log = createWriteStream(o.logFile);
  child.stderr?.pipe(log, { end: false });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    log.write(`${line}\n`);
    o.onStdoutLine?.(line);
  });
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? String(code));
    });
    child.on('error', (err) => {
      running.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
  });
  return {
    name: o.name,
    pid: child.pid,
    logFile: o.logFile,
    exited,
    stop: async () => {
      if (!running.has(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of a process's log, for error messages. */
export function logTail(p: ManagedProcess, lines = 15): string {
  try {
    return readFileSync(p.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until 127.0.0.1:port accepts a TCP connection; throws with the log tail if the process exits. */
export async function waitForPort(p: ManagedProcess, port: number, timeoutMs = 10_000): Promise<void> {
  let exitedWith: string | undefined;
  void p.exited.then((code) => {
    exitedWith = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) {
      throw new Error(`${p.name} exited (${exitedWith}) before listening on ${port}:\n${logTail(p)}`);
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${p.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${logTail(p)}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port that was free a moment ago on 127.0.0.1 (the servers here need a number in their config). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}
