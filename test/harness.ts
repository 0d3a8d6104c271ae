// Shared by the black-box tests: starts real `alder` processes on loopback, reads their ready line,
// runs CLI commands as a user would, and cleans up after each test file.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(import.meta.dirname, '..');
export const ALDER = join(ROOT, 'bin', 'alder.js');
export const SAMPLES = join(ROOT, '..', 'shared', 'istio-samples');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `alder-${prefix}-`));
}

export interface RunningControlPlane {
  url: string;
  /** `https://127.0.0.1:PORT`: the mesh port proxies join (absent with `--mesh-listen none`). */
  meshUrl: string | undefined;
  dataDir: string;
  /** The admin token the control plane wrote to `<dataDir>/admin-token`. */
  token: string;
  process: ChildProcess;
  /** Lines the process logged, parsed. */
  logs: Record<string, unknown>[];
  /** SIGTERM, then wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

/** Starts `alder control-plane` on a free port; fails with the process output if it is not ready in time. */
export async function startControlPlane(
  options: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<RunningControlPlane> {
  const dataDir = options.dataDir ?? tempDir('cp');
  const child = spawn(
    process.execPath,
    [
      ALDER,
      'control-plane',
      ...['--listen', '127.0.0.1:0', '--data-dir', dataDir],
      ...(options.args?.includes('--mesh-listen') ? [] : ['--mesh-listen', '127.0.0.1:0']),
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a control plane that never got ready must not keep the test file alive
      reject(new Error(`control plane not ready within 15s; stderr: ${stderr}`));
    }, 15_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'control plane ready') {
          clearTimeout(timer);
          resolve(entry);
        }
      } catch {
        logs.push({ raw: line });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with ${code} before it was ready; stderr: ${stderr}`));
    });
  });
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const url = String(ready.url);
  const meshUrl = ready.meshUrl === undefined ? undefined : String(ready.meshUrl);
  for (const u of [url, meshUrl]) if (u !== undefined) tokensByOrigin.set(new URL(u).origin, token);
  return {
    url,
    meshUrl,
    dataDir,
    token,
    process: child,
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Admin tokens of the control planes this process started, by API origin: `api` and `alder` send them. */
const tokensByOrigin = new Map<string, string>();

/** The admin token of the control plane serving `url`, if this process started it. */
export function tokenFor(url: string): string | undefined {
  return tokensByOrigin.get(new URL(url).origin);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Listens on 127.0.0.1 port 0 (any server: node:net, node:http, http2, tls) and resolves the port. */
export async function listenOnLoopback(server: NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** A port on 127.0.0.1 that nothing listens on: free a moment ago, when it was asked for. */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  const port = await listenOnLoopback(probe);
  probe.close();
  return port;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `alder ARGS` as a separate process, as a user's shell would. */
export function alder(
  args: string[],
  options: { server?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.server !== undefined) {
    env.ALDER_SERVER = options.server;
    const token = tokenFor(options.server);
    if (token !== undefined && env.ALDER_TOKEN === undefined && options.env?.ALDER_DATA_DIR === undefined)
      env.ALDER_TOKEN = token;
  }
  const child = spawn(process.execPath, [ALDER, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * fetch with a JSON body, answering the status and the parsed JSON body. Sends the admin token of the
 * control plane at `url` (started by `startControlPlane`) unless `token` says otherwise (null: none).
 */
export async function api(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    contentType?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = init.token === undefined ? tokenFor(url) : init.token;
  if (token !== undefined && token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] = init.contentType ?? 'application/json';
  }
  Object.assign(headers, init.headers);
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, body: json, headers: res.headers };
}

export interface RunningProxy {
  admin: string;
  /** What the process wrote to stderr so far (a crash shows here). */
  stderr(): string;
  listeners: { name: string; address: string; port: number }[];
  process: ChildProcess;
  logs: Record<string, unknown>[];
  stop(): Promise<number | null>;
}

/** How a proxy process starts, besides its arguments. */
export interface ProxyLaunch {
  /** Added to the proxy's environment (the `ALDER_*` settings in docs/proxy.md). */
  env?: Record<string, string>;
  /** A command the proxy runs under, such as `['prlimit', '--nofile=300']`; it must exec the proxy (same pid). */
  wrapper?: string[];
  /** Go to Node.js before the script (`--import` hooks). */
  nodeArgs?: string[];
}

/** Starts `alder proxy ARGS` (admin on 127.0.0.1 port 0 unless ARGS say otherwise) and waits for its `proxy ready` line. */
export async function startProxy(args: string[], launch: ProxyLaunch = {}): Promise<RunningProxy> {
  const command = [
    ...(launch.wrapper ?? []),
    process.execPath,
    ...(launch.nodeArgs ?? []),
    ALDER,
    'proxy',
    '--admin',
    '127.0.0.1:0',
  ];
  const child = spawn(command[0] as string, [...command.slice(1), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...launch.env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a proxy that never got ready must not outlive the test
      reject(
        new Error(`proxy not ready within 15s; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-8))}`),
      );
    }, 15_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'proxy ready') {
          clearTimeout(timer);
          resolve(entry);
        }
      } catch {
        logs.push({ raw: line });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code} before it was ready; stderr: ${stderr}`));
    });
  });
  return {
    admin: String(ready.admin),
    stderr: () => stderr,
    listeners: ready.listeners as RunningProxy['listeners'],
    process: child,
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Calls `probe` until it answers something other than undefined, and resolves with that; after `ms`
 * fails with `want` and the last thing seen (`probe` reports it through `seen`).
 */
export async function eventually<T>(
  want: string,
  probe: (seen: (what: unknown) => void) => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const value = await probe((what) => {
      last = what;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`${want}: not within ${ms}ms; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves when `predicate` holds for a log line (already logged or to come); fails after `ms`. */
export function waitForLog(
  p: { logs: Record<string, unknown>[]; process: ChildProcess },
  predicate: (e: Record<string, unknown>) => boolean,
  ms = 10_000,
): Promise<Record<string, unknown>> {
  const found = p.logs.find(predicate);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`log line not seen within ${ms}ms; last lines: ${JSON.stringify(p.logs.slice(-3))}`),
        ),
      ms,
    );
    const onData = () => {
      const hit = p.logs.find(predicate);
      if (hit !== undefined) {
        clearTimeout(timer);
        p.process.stdout?.off('data', onData);
        resolve(hit);
      }
    };
    p.process.stdout?.on('data', () => setImmediate(onData));
  });
}

/**
 * Polls `check` every 25 ms until it answers true; fails after `ms` with `what` and the last value
 * `describe` gives (what was seen instead).
 */
export async function pollUntil(
  what: string,
  ms: number,
  check: () => boolean | Promise<boolean>,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) {
      const seen = describe();
      throw new Error(`want ${what} within ${ms}ms${seen === '' ? '' : `, got ${seen}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
