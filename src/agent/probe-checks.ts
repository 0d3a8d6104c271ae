// One attempt of each probe handler: httpGet, tcpSocket, exec and grpc (grpc.health.v1, framed by
// hand over h2c). Each attempt answers once with ok and what it saw, in words a human reads, and
// gives up when `signal` aborts (the runner's timeout or stop). The runner (probes.ts) owns timing.

import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { constants as h2, connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { isIPv6, connect as tcpConnect } from 'node:net';
import type { ProbeSpec } from './probes.ts';

// node:http is taken as the CommonJS object: an ES import of it builds a namespace of every export,
// which runs its lazy WebSocket, CloseEvent and MessageEvent getters and so loads undici (3 MiB of RSS
// in a proxy that never uses them).
const { request: httpRequest } = process.getBuiltinModule('node:http');

export interface Attempt {
  ok: boolean;
  /** What was tried and what came of it: `GET http://127.0.0.1:9080/healthz: 503`. */
  detail: string;
}

/** What an attempt does when the runner aborts it: its words for the timeout. */
export interface AttemptContext {
  signal: AbortSignal;
  timeoutMs: number;
  defaultHost: string;
}

/** Bytes of an exec probe's output kept for its reason; the rest is discarded as it comes. */
const MAX_EXEC_OUTPUT_BYTES = 1024;
/** Bytes of a gRPC health answer read; a HealthCheckResponse is 2 bytes. */
const MAX_GRPC_ANSWER_BYTES = 1024;
const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Runs one attempt of the probe's handler. */
export function runAttempt(probe: ProbeSpec, ctx: AttemptContext): Promise<Attempt> {
  if (probe.httpGet !== undefined) return httpGetAttempt(probe.httpGet, ctx);
  if (probe.tcpSocket !== undefined) return tcpAttempt(probe.tcpSocket, ctx);
  if (probe.exec !== undefined) return execAttempt(probe.exec, ctx);
  if (probe.grpc !== undefined) return grpcAttempt(probe.grpc, ctx);
  return Promise.resolve({
    ok: false,
    detail: 'the probe has no handler (httpGet, tcpSocket, exec or grpc)',
  });
}

/** `host:port`, with brackets around an IPv6 address. */
function hostPort(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function errorWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // A stream cancelled because its session failed: the session's error is the one that says why.
  if (e.code === 'ERR_HTTP2_STREAM_CANCEL' && e.cause !== undefined) return errorWords(e.cause);
  return e.code ?? e.message ?? String(err);
}

/**
 * Settles once: the first of `done` or the abort wins, and `cleanup` runs either way. Every attempt
 * goes through it so that none answers twice or leaves a socket or process behind.
 */
function once(
  ctx: AttemptContext,
  what: string,
  start: (done: (a: Attempt) => void) => () => void,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: () => void = () => {};
    const finish = (a: Attempt) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      cleanup();
      resolve(a);
    };
    const onAbort = () => finish({ ok: false, detail: `${what}: no answer within ${ctx.timeoutMs} ms` });
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    cleanup = start(finish);
    if (settled) cleanup();
  });
}

function httpGetAttempt(h: NonNullable<ProbeSpec['httpGet']>, ctx: AttemptContext): Promise<Attempt> {
  const isHttps = h.scheme === 'HTTPS';
  const host = h.host || ctx.defaultHost;
  const path = h.path === undefined || h.path === '' ? '/' : h.path.startsWith('/') ? h.path : `/${h.path}`;
  const what = `GET ${isHttps ? 'https' : 'http'}://${hostPort(host, h.port)}${path}`;
  const headers: Record<string, string | string[]> = { 'user-agent': 'alder-probe', accept: '*/*' };
  for (const { name, value = '' } of h.httpHeaders ?? []) {
    const key = name.toLowerCase();
    const had = headers[key];
    headers[key] =
      had === undefined || key === 'user-agent' || key === 'accept' ? value : [had, value].flat();
  }
  return once(ctx, what, (done) => {
    const options = { host, port: h.port, path, method: 'GET', headers, agent: false as const };
    const onResponse = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.destroy();
      done({ ok: status >= 200 && status < 400, detail: `${what}: ${status}` });
    };
    // Kubernetes does not verify a probed app's certificate; neither does Alder.
    const req = isHttps
      ? httpsRequest({ ...options, rejectUnauthorized: false }, onResponse)
      : httpRequest(options, onResponse);
    req.on('error', (err) => done({ ok: false, detail: `${what}: ${errorWords(err)}` }));
    req.end();
    return () => req.destroy();
  });
}

function tcpAttempt(t: NonNullable<ProbeSpec['tcpSocket']>, ctx: AttemptContext): Promise<Attempt> {
  const host = t.host || ctx.defaultHost;
  const what = `connect ${hostPort(host, t.port)}`;
  return once(ctx, what, (done) => {
    const socket = tcpConnect({ host, port: t.port });
    socket.on('connect', () => done({ ok: true, detail: `${what}: connected` }));
    socket.on('error', (err) => done({ ok: false, detail: `${what}: ${errorWords(err)}` }));
    return () => socket.destroy();
  });
}

function execAttempt(e: NonNullable<ProbeSpec['exec']>, ctx: AttemptContext): Promise<Attempt> {
  const [file = '', ...args] = e.command;
  const what = `exec ${e.command.map((a) => (/^[\w./=:-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`;
  return once(ctx, what, (done) => {
    // Its own process group, so that a timeout kills what the command started too.
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < MAX_EXEC_OUTPUT_BYTES) output += chunk.toString('utf8', 0, MAX_EXEC_OUTPUT_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => done({ ok: false, detail: `${what}: ${errorWords(err)}` }));
    child.on('close', (code, signal) => {
      const said = output.trim().split('\n')[0]?.slice(0, 200) ?? '';
      const how = code === null ? `killed by ${signal}` : `exit code ${code}`;
      done({ ok: code === 0, detail: `${what}: ${how}${said === '' ? '' : `: ${said}`}` });
    });
    return () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
  });
}

/** grpc.health.v1.HealthCheckRequest{service}, in a gRPC length-prefixed frame. */
export function healthCheckFrame(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** The `status` of a framed HealthCheckResponse (field 1, varint), or undefined when it is not one. */
export function servingStatusOf(frame: Buffer): number | undefined {
  if (frame.length < 5 || frame[0] !== 0) return undefined;
  const message = frame.subarray(5, 5 + frame.readUInt32BE(1));
  let status = 0; // proto3: an absent field is 0 (UNKNOWN)
  for (let i = 0; i < message.length; ) {
    const tag = message[i++] as number;
    let value = 0;
    let shift = 0;
    if ((tag & 7) !== 0) return undefined; // the response holds only the varint `status`
    while (i < message.length) {
      const b = message[i++] as number;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    if (tag >>> 3 === 1) status = value;
  }
  return status;
}

function grpcAttempt(g: NonNullable<ProbeSpec['grpc']>, ctx: AttemptContext): Promise<Attempt> {
  const authority = hostPort(ctx.defaultHost, g.port);
  const service = g.service ?? '';
  const what = `grpc ${authority} Health/Check${service === '' ? '' : ` ${service}`}`;
  return once(ctx, what, (done) => {
    const session = h2connect(`http://${authority}`);
    session.on('error', (err) => done({ ok: false, detail: `${what}: ${errorWords(err)}` }));
    const stream = session.request({
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: HEALTH_CHECK_PATH,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      'user-agent': 'alder-probe',
    });
    let answer = Buffer.alloc(0);
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    const noteStatus = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined)
        grpcMessage = decodeURIComponent(String(headers['grpc-message']));
    };
    stream.on('response', (headers) => {
      const status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      if (status !== 200) done({ ok: false, detail: `${what}: HTTP status ${status}` });
      noteStatus(headers);
    });
    stream.on('trailers', noteStatus);
    stream.on('data', (chunk: Buffer) => {
      if (answer.length + chunk.length > MAX_GRPC_ANSWER_BYTES) {
        done({ ok: false, detail: `${what}: answer larger than ${MAX_GRPC_ANSWER_BYTES} bytes` });
      } else answer = Buffer.concat([answer, chunk]);
    });
    stream.on('error', (err) => done({ ok: false, detail: `${what}: ${errorWords(err)}` }));
    stream.on('close', () => done(grpcVerdict(what, grpcStatus, grpcMessage, answer)));
    stream.end(healthCheckFrame(service));
    return () => {
      stream.destroy();
      session.destroy();
    };
  });
}

function grpcVerdict(what: string, grpcStatus: string | undefined, message: string, answer: Buffer): Attempt {
  if (grpcStatus === undefined) return { ok: false, detail: `${what}: stream ended without grpc-status` };
  if (grpcStatus !== '0') {
    const name = GRPC_CODES[Number(grpcStatus)] ?? 'UNKNOWN';
    return {
      ok: false,
      detail: `${what}: grpc-status ${grpcStatus} ${name}${message === '' ? '' : `: ${message}`}`,
    };
  }
  const status = servingStatusOf(answer);
  if (status === undefined) return { ok: false, detail: `${what}: the answer is not a HealthCheckResponse` };
  return { ok: status === 1, detail: `${what}: ${SERVING_STATUS[status] ?? `status ${status}`}` };
}
