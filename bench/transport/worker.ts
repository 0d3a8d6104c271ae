// Starts process A or B as `node SCRIPT JSON` with an IPC channel, pinned with taskset when a CPU is
// given. `ask` sends one message and resolves with the child's next one. Children are killed when
// the harness exits, so an aborted run leaves nothing behind.

import { type ChildProcess, spawn } from 'node:child_process';

export interface Worker<In, Out> {
  pid: number;
  /** The child's next message, already received or still to come. */
  next(): Promise<Out>;
  ask(message: In): Promise<Out>;
  /** Asks the child to exit, then kills it if it has not within 2 s. */
  stop(exitMessage: In): Promise<void>;
}

export interface WorkerOptions {
  name: string;
  script: string;
  arg: unknown;
  /** taskset CPU list; undefined runs unpinned. */
  cpuList: string | undefined;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function startWorker<In, Out>(o: WorkerOptions): Worker<In, Out> {
  const node = [process.execPath, o.script, JSON.stringify(o.arg)];
  const [command, ...args] = o.cpuList === undefined ? node : ['taskset', '-c', o.cpuList, ...node];
  // taskset execs node: the child's pid is the benchmark process's own.
  const child = spawn(command as string, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${o.script}`);
  children.add(child);
  const inbox: Out[] = [];
  const waiting: Array<{ resolve: (m: Out) => void; reject: (e: Error) => void }> = [];
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      exitReason = `${o.name} exited (${signal ?? code})`;
      for (const w of waiting.splice(0)) w.reject(new Error(exitReason));
      resolve();
    }),
  );
  child.on('message', (m: Out) => {
    const w = waiting.shift();
    if (w === undefined) inbox.push(m);
    else w.resolve(m);
  });
  const next = () => {
    const m = inbox.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (exitReason !== undefined) return Promise.reject(new Error(exitReason));
    return new Promise<Out>((resolve, reject) => waiting.push({ resolve, reject }));
  };
  return {
    pid: child.pid,
    next,
    ask: (message) => {
      child.send(message as object);
      return next();
    },
    stop: async (exitMessage) => {
      if (exitReason !== undefined) return;
      child.send(exitMessage as object);
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
