// `alder run` in tests: a control plane, join tokens, and workloads started as a user starts them
// (`alder run ... -- node test/apps/mesh-app.ts MODE`), with their logs (stderr, JSON) and the app's
// output (stdout) kept for assertions.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  ALDER,
  alder,
  type CliResult,
  ROOT,
  type RunningControlPlane,
  startControlPlane,
} from './harness.ts';
import { curl } from './mesh-fixture.ts';

export const MESH_APP = join(ROOT, 'test', 'apps', 'mesh-app.ts');

export interface RunningWorkload {
  process: ChildProcess;
  /** The JSON lines alder run logged (stderr). */
  logs: Record<string, unknown>[];
  /** What the app printed (stdout). */
  output(): string;
  /** Resolves with the exit code (or 128 + signal) once alder run has exited. */
  exited: Promise<number>;
  /** Everything seen, for failure messages. */
  transcript(): string;
}

export function startRun(args: string[], env: Record<string, string> = {}): RunningWorkload {
  const child = spawn(process.execPath, [ALDER, 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No node proxy unless the test names one: a node proxy another test runs must not be found.
    env: { ...process.env, ALDER_NODE_SOCKET: join(ROOT, '.alder', 'no-node-proxy.sock'), ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a plain error line: kept in the transcript
      }
    }
  });
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      // An app outliving a killed alder run holds the pipes' far ends: they must not hold this file.
      if (signal === 'SIGKILL')
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, 500);
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    }),
  );
  return {
    process: child,
    logs,
    output: () => out,
    exited,
    transcript: () => `--- stdout\n${out}\n--- stderr\n${err}`,
  };
}

/** Resolves when the app has printed `text`; fails with the transcript after `ms` or if alder run exits. */
export async function waitForOutput(w: RunningWorkload, text: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let hasExited = false;
  void w.exited.then(() => {
    hasExited = true;
  });
  while (!w.output().includes(text)) {
    if (hasExited)
      assert.fail(`want the app to print ${JSON.stringify(text)}; alder run exited\n${w.transcript()}`);
    if (Date.now() > deadline)
      assert.fail(`want the app to print ${JSON.stringify(text)} within ${ms}ms\n${w.transcript()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Stops a workload if it still runs (SIGKILL after 15 s): for t.after. */
export async function ensureStopped(w: RunningWorkload): Promise<void> {
  if (w.process.exitCode === null && w.process.signalCode === null) {
    w.process.kill('SIGTERM');
    const timer = setTimeout(() => w.process.kill('SIGKILL'), 15_000);
    await w.exited;
    clearTimeout(timer);
  }
  // An app whose alder run was killed outlives it: it must not outlive the test.
  const pid = Number(w.logs.find((l) => l.msg === 'app started')?.pid);
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
}

export interface RunMesh {
  /** The control plane now (another one after restartControlPlane). */
  readonly cp: RunningControlPlane;
  meshAddress: string;
  cli(args: string[], stdin?: string): Promise<CliResult>;
  /** A join token for NAMESPACE/ACCOUNT. */
  token(namespace: string, serviceAccount: string): Promise<string>;
  /** `--control-plane` and `--token` for alder run, plus a state dir under the test's folder. */
  runArgs(o: { namespace: string; service: string; address: string; token: string }): string[];
  /** The whole `alder run` command line for mesh-app in `mode`, with a fresh token for the service. */
  appArgs(o: {
    namespace: string;
    service: string;
    address: string;
    port?: string;
    mode: string[];
  }): Promise<string[]>;
  /** Stops the control plane (SIGKILL when `kill`) and starts it again on the same mesh port and data. */
  restartControlPlane(kill: boolean): Promise<void>;
}

export async function startRunMesh(dir: string, cpArgs: string[] = []): Promise<RunMesh> {
  let cp = await startControlPlane({ dataDir: join(dir, 'cp'), args: cpArgs });
  const meshAddress = `127.0.0.1:${new URL(cp.meshUrl as string).port}`;
  const cli = (args: string[], stdin?: string) =>
    alder(args, {
      server: cp.url,
      env: { ALDER_DATA_DIR: cp.dataDir },
      ...(stdin === undefined ? {} : { stdin }),
    });
  const token = async (namespace: string, serviceAccount: string) => {
    const r = await cli([
      'token',
      'create',
      '-n',
      namespace,
      '--service-account',
      serviceAccount,
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, `want a token for ${namespace}/${serviceAccount}; stderr: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { token: string }).token;
  };
  const runArgs = (o: { namespace: string; service: string; address: string; token: string }) => [
    ...['--control-plane', meshAddress, '--token', o.token, '-n', o.namespace, '--address', o.address],
    ...['--state-dir', join(dir, `run-${o.service}-${o.address}`), '--admin', `${o.address}:15000`],
  ];
  return {
    get cp() {
      return cp;
    },
    meshAddress,
    cli,
    token,
    runArgs,
    restartControlPlane: async (kill) => {
      if (kill) await cp.kill();
      else await cp.stop();
      cp = await startControlPlane({
        dataDir: cp.dataDir,
        args: [...cpArgs, '--mesh-listen', meshAddress],
      });
    },
    appArgs: async (o) => [
      ...runArgs({ ...o, token: await token(o.namespace, o.service) }),
      ...['--service', o.service, ...(o.port === undefined ? [] : ['--port', o.port])],
      ...['--', process.execPath, MESH_APP, ...o.mode],
    ],
  };
}

/** The HTTP_PROXY the app was given (mesh-app prints it). */
export function httpProxyOf(w: RunningWorkload): string {
  const m = /env HTTP_PROXY=(\S+)/.exec(w.output());
  assert.ok(m !== null, `want the app to print its HTTP_PROXY\n${w.transcript()}`);
  return m[1] as string;
}

/** `loops` curl callers sending to `url` through `proxy` until stopped: each result 'ok' or what failed. */
export function steadyLoad(
  proxy: string,
  url: string,
  loops = 2,
): { results: string[]; stop(): Promise<string[]> } {
  const results: string[] = [];
  let isLoading = true;
  const running = Array.from({ length: loops }, async () => {
    while (isLoading) {
      const r = await curl(['-x', proxy, url]).catch((err: Error) => ({ status: 0, body: err.message }));
      results.push(r.status === 200 ? 'ok' : `${r.status} ${r.body.slice(0, 200)}`);
    }
  });
  return {
    results,
    stop: async () => {
      isLoading = false;
      await Promise.all(running);
      return results;
    },
  };
}

export interface RunningNode {
  process: ChildProcess;
  /** The node's admin URL. */
  admin: string;
  /** The lines it logged (stdout). */
  log: string[];
  stop(): Promise<void>;
}

/** Starts `alder node` against the mesh, listening at `socket`, with its state under `dir`. */
export async function startNode(mesh: RunMesh, dir: string, socket: string): Promise<RunningNode> {
  const node = spawn(
    process.execPath,
    [
      ...[ALDER, 'node', '--control-plane', mesh.meshAddress, '--socket', socket],
      ...['--admin', '127.0.0.1:0', '--state-dir', join(dir, 'node-state')],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ALDER_NODE_SOCKET: '' } },
  );
  const log: string[] = [];
  const admin = await new Promise<string>((resolve, reject) => {
    createInterface({ input: node.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      log.push(line);
      if (line.includes('"node proxy ready"')) resolve(String((JSON.parse(line) as { admin: string }).admin));
    });
    node.once('exit', (code) => reject(new Error(`alder node exited with ${code}`)));
  });
  return {
    process: node,
    admin,
    log,
    stop: async () => {
      if (node.exitCode !== null || node.signalCode !== null) return;
      node.kill('SIGTERM');
      await new Promise((r) => node.once('exit', r));
    },
  };
}
