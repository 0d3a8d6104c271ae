// For the demo apps' tests: runs an app of src/demo/apps as its own process on a loopback address
// (port 0, read back from its "listening" line), stand-in services that record what they were sent
// and can hold an answer, a forward proxy that checks credentials and tunnels CONNECT, and a GET
// that reports status, headers and body. Every wait has a deadline and fails with what it waited for.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { within } from './grpc-kit.ts';
import { ROOT } from './harness.ts';

const APPS = join(ROOT, 'src', 'demo', 'apps');

export interface RunningApp {
  name: string;
  host: string;
  port: number;
  /** `host:port`, as ALDER_DEMO_HOSTS and ALDER_UPSTREAM_* take it. */
  address: string;
  child: ChildProcess;
  stdoutLines: string[];
  stderrLines: string[];
  /** Resolves with the first line (stdout or stderr) that `matches`, even one already printed. */
  line(matches: (line: string) => boolean, what: string, ms?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; ms: number }>;
}

/** Where cleanups go: a test's context (`t`), or a suite's scope from `suiteScope()`. */
export interface Scope {
  after(fn: () => unknown): void;
}

/** A scope whose cleanups run after the enclosing `describe`; call it in the describe's body. */
export function suiteScope(): Scope {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { after: (fn) => void cleanups.push(fn) };
}

/** Variables an outer shell may set that would change how an app connects. */
const SCRUBBED = [
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALDER_DEMO_HOSTS',
  'NODE_USE_ENV_PROXY',
];

/** Starts `node src/demo/apps/APP.ts` on `host`, port 0; killed after the test if still running. */
export async function startApp(
  t: Scope,
  app: string,
  host: string,
  env: Record<string, string> = {},
): Promise<RunningApp> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete base[name];
  const child = spawn(process.execPath, [join(APPS, `${app}.ts`)], {
    env: { ...base, ALDER_APP_ADDRESS: host, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  const collect = (stream: NodeJS.ReadableStream, into: string[]) =>
    createInterface({ input: stream }).on('line', (l) => {
      into.push(l);
      for (const w of waiters) w(l);
    });
  collect(child.stdout as NodeJS.ReadableStream, stdoutLines);
  collect(child.stderr as NodeJS.ReadableStream, stderrLines);
  const line = (matches: (l: string) => boolean, what: string, ms = 10_000) => {
    const seen = [...stdoutLines, ...stderrLines].find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    let waiter: ((l: string) => void) | undefined;
    const found = new Promise<string>((resolve, reject) => {
      waiter = (l) => {
        if (matches(l)) resolve(l);
      };
      waiters.add(waiter);
      void exited.then(({ code, signal }) =>
        reject(
          new Error(`${app} exited (${code ?? signal}) before ${what}; stderr:\n${stderrLines.join('\n')}`),
        ),
      );
    });
    return within(found, `${app}: ${what}; stderr:\n${stderrLines.join('\n')}`, ms).finally(() => {
      if (waiter !== undefined) waiters.delete(waiter);
    });
  };
  const ready = await line((l) => l.startsWith(`${app} listening on `), 'its "listening" line');
  const port = Number(/:(\d+)$/.exec(ready)?.[1]);
  return {
    name: app,
    host,
    port,
    address: `${host}:${port}`,
    child,
    stdoutLines,
    stderrLines,
    line,
    stop: async (signal = 'SIGTERM') => {
      const start = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await within(exited, `${app} to exit after ${signal}`, 10_000);
      return { ...result, ms: performance.now() - start };
    },
  };
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET on a fresh connection; rejects after `ms`. */
export function get(url: string, headers: Record<string, string> = {}, ms = 10_000): Promise<HttpResult> {
  const done = new Promise<HttpResult>((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
  return within(done, `an answer to GET ${url}`, ms);
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export type Answer = { status: number; body: unknown } | 'hold';

export interface StandIn {
  port: number;
  address: string;
  requests: Recorded[];
  /** Resolves at the next request whose answer is held ('hold'); `release` then answers it. */
  held(): Promise<{ request: Recorded; release(answer: { status: number; body: unknown }): void }>;
}

/** An HTTP/1 server on `host` answering each request with `answer(request)` as JSON, recording them all. */
export async function startStandIn(
  t: Scope,
  host: string,
  answer: (r: Recorded) => Answer,
): Promise<StandIn> {
  const requests: Recorded[] = [];
  const holds: ((h: Awaited<ReturnType<StandIn['held']>>) => void)[] = [];
  const pending: Awaited<ReturnType<StandIn['held']>>[] = [];
  const server = createServer((req, res) => {
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(recorded);
    const a = answer(recorded);
    if (a !== 'hold') return sendJson(res, a.status, a.body);
    const h = {
      request: recorded,
      release: (r: { status: number; body: unknown }) => sendJson(res, r.status, r.body),
    };
    const waiter = holds.shift();
    if (waiter === undefined) pending.push(h);
    else waiter(h);
  });
  const port = await listenOn(server, host);
  t.after(() => closeServer(server));
  return {
    port,
    address: `${host}:${port}`,
    requests,
    held: () => {
      const first = pending.shift();
      if (first !== undefined) return Promise.resolve(first);
      return within(
        new Promise((resolve) => holds.push(resolve)),
        `a request at the stand-in on ${host}:${port}`,
      );
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function listenOn(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** Closes `server` and every connection it still has. */
export function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface ForwardProxy {
  port: number;
  /** Absolute-form requests, as received. */
  requests: Recorded[];
  /** CONNECT requests, as received. */
  connects: Recorded[];
}

/**
 * A forward proxy on `host`: it answers 407 unless Proxy-Authorization is `authorization` (when
 * given), sends absolute-form requests on to the address `routes` names for their authority, and
 * tunnels CONNECT likewise; an authority not in `routes` gets 502.
 */
export async function startForwardProxy(
  t: Scope,
  host: string,
  routes: Record<string, string>,
  authorization?: string,
): Promise<ForwardProxy> {
  const requests: Recorded[] = [];
  const connects: Recorded[] = [];
  const sockets = new Set<Socket>();
  const isAllowed = (headers: IncomingHttpHeaders) =>
    authorization === undefined || headers['proxy-authorization'] === authorization;
  const server = createServer((req: IncomingMessage, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (!isAllowed(req.headers)) return sendJson(res, 407, { error: 'proxy authentication required' });
    const target = new URL(req.url ?? '');
    const to = routes[target.host];
    if (to === undefined) return sendJson(res, 502, { error: `no route to ${target.host}` });
    const [toHost, toPort] = to.split(':') as [string, string];
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      {
        host: toHost,
        port: Number(toPort),
        path: `${target.pathname}${target.search}`,
        headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => sendJson(res, 503, { error: 'upstream connect error' }));
    upstream.end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    connects.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    client.on('error', () => client.destroy());
    if (!isAllowed(req.headers)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const to = routes[req.url ?? ''];
    if (to === undefined) return void client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    const [toHost, toPort] = to.split(':') as [string, string];
    const upstream = netConnect({ host: toHost, port: Number(toPort) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
  });
  const port = await listenOn(server, host);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });
  return { port, requests, connects };
}
