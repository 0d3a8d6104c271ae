// The proxy's readiness probes against real apps: an HTTP server flipped between 200 and 503, a TCP
// server that closes, commands that exit 1 or hang, and a grpc-js server of grpc.health.v1. Each
// test waits for the state changes the probe reports and checks the words a human reads.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type ProbeSpec, type ProbeState, startProbe } from '../src/agent/probes.ts';
import { meshCa } from './certs.ts';
import { listenOnLoopback, pollUntil, removeDir, tempDir } from './harness.ts';

const FAST = { periodMs: 50, timeoutMs: 500 };

/** Starts `probe` against 127.0.0.1 and hands out its state changes in order. */
function watch(t: TestContext, probe: ProbeSpec) {
  const changes: ProbeState[] = [];
  let wake: (() => void) | undefined;
  const running = startProbe(probe, {
    defaultHost: '127.0.0.1',
    onChange(state) {
      changes.push(state);
      wake?.();
    },
  });
  t.after(() => running.stop());
  let read = 0;
  return {
    changes,
    stop: () => running.stop(),
    /** The next change; fails naming `want` when none comes within `ms`. */
    async next(want: string, ms = 5000): Promise<ProbeState> {
      if (read < changes.length) return changes[read++] as ProbeState;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`want a change to ${want} within ${ms} ms, got none`)),
          ms,
        );
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
      return changes[read++] as ProbeState;
    },
  };
}

function assertState(got: ProbeState, healthy: boolean, reason: RegExp): void {
  assert.equal(got.healthy, healthy, `want healthy=${healthy} (${reason}), got ${JSON.stringify(got)}`);
  assert.match(got.reason, reason, `want the reason to match ${reason}`);
  assert.ok(Math.abs(Date.now() - got.since) < 5000, `want since to be now, got ${got.since}`);
}

/** An HTTP app whose /healthz answers `status`; it records every request it sees. */
async function startHttpApp(t: TestContext, handle?: (req: IncomingMessage) => boolean) {
  const app = { status: 200, requests: [] as IncomingMessage[], open: 0, maxOpen: 0, port: 0 };
  const server: Server = createServer((req, res) => {
    app.requests.push(req);
    app.open++;
    app.maxOpen = Math.max(app.maxOpen, app.open);
    req.socket.on('close', () => app.open--);
    if (handle?.(req) === false) return; // leave it hanging
    res.writeHead(app.status, { connection: 'close' }).end(String(app.status));
  });
  app.port = await listenOnLoopback(server as unknown as TcpServer);
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return app;
}

describe('agent probes: httpGet', () => {
  it('httpGet: healthy on 200, unhealthy after 3 failures of 503, healthy again on 200', async (t) => {
    const app = await startHttpApp(t);
    const probe = watch(t, {
      ...FAST,
      failureThreshold: 3,
      httpGet: { path: '/healthz', port: app.port, httpHeaders: [{ name: 'X-Probe', value: 'alder' }] },
    });
    const url = `GET http://127.0.0.1:${app.port}/healthz`;
    assertState(await probe.next('healthy'), true, new RegExp(`^${url}: 200 after 1 success$`));
    assert.equal(app.requests[0]?.headers['x-probe'], 'alder', 'want the probe header sent');

    app.status = 503;
    const seenBefore = app.requests.length;
    assertState(await probe.next('unhealthy'), false, new RegExp(`^${url}: 503 after 3 failures$`));
    assert.ok(app.requests.length - seenBefore >= 3, 'want three 503 answers before the change');

    app.status = 200;
    assertState(await probe.next('healthy again'), true, new RegExp(`^${url}: 200 after 1 success$`));
  });

  it('httpGet: successThreshold 2 needs two 200s in a row; a 3xx is healthy', async (t) => {
    const app = await startHttpApp(t);
    app.status = 302;
    const probe = watch(t, { ...FAST, successThreshold: 2, httpGet: { port: app.port } });
    assertState(
      await probe.next('healthy'),
      true,
      /^GET http:\/\/127\.0\.0\.1:\d+\/: 302 after 2 successes$/,
    );
  });

  it("httpGet: HTTPS to an app whose certificate is not the mesh's, with the Host header given", async (t) => {
    const dir = tempDir('probe-https');
    t.after(() => removeDir(dir));
    const cert = meshCa(dir)('spiffe://cluster.local/ns/shop/sa/app', 'app');
    let host = '';
    const server = createHttpsServer(
      { cert: readFileSync(cert.cert), key: readFileSync(cert.key) },
      (req, res) => {
        host = req.headers.host ?? '';
        res.writeHead(204).end();
      },
    );
    const port = await listenOnLoopback(server);
    t.after(() => server.close());
    const probe = watch(t, {
      ...FAST,
      httpGet: { scheme: 'HTTPS', path: 'ready', port, httpHeaders: [{ name: 'Host', value: 'app.shop' }] },
    });
    assertState(
      await probe.next('healthy'),
      true,
      new RegExp(`^GET https://127\\.0\\.0\\.1:${port}/ready: 204 after 1 success$`),
    );
    assert.equal(host, 'app.shop', 'want the Host header the probe names');
  });

  it('httpGet: an app that does not answer fails at the timeout, one attempt at a time', async (t) => {
    const app = await startHttpApp(t, () => false);
    const probe = watch(t, {
      periodMs: 20,
      timeoutMs: 100,
      failureThreshold: 3,
      httpGet: { port: app.port },
    });
    assertState(
      await probe.next('unhealthy'),
      false,
      /^GET http:\/\/127\.0\.0\.1:\d+\/: no answer within 100 ms after 3 failures$/,
    );
    assert.equal(app.maxOpen, 1, `want at most one attempt in flight, saw ${app.maxOpen} at once`);
  });

  it('httpGet: waits initialDelayMs before the first attempt', async (t) => {
    const app = await startHttpApp(t);
    const started = Date.now();
    const probe = watch(t, { ...FAST, initialDelayMs: 300, httpGet: { port: app.port } });
    await probe.next('healthy');
    const waited = Date.now() - started;
    assert.ok(
      waited >= 290,
      `want the first attempt after the 300 ms initial delay, came after ${waited} ms`,
    );
  });

  it('stop: ends the attempt in flight and reports nothing more', async (t) => {
    let onRequest: () => void = () => {};
    const requested = new Promise<void>((resolve) => {
      onRequest = resolve;
    });
    const app = await startHttpApp(t, () => {
      onRequest();
      return false;
    });
    const probe = watch(t, {
      periodMs: 50,
      timeoutMs: 5000,
      failureThreshold: 1,
      httpGet: { port: app.port },
    });
    await requested;
    const closed = new Promise<void>((resolve) => app.requests[0]?.socket.on('close', () => resolve()));
    probe.stop();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 200)); // a window in which a stray report would land
    assert.deepEqual(probe.changes, [], 'want no report after stop');
    assert.equal(app.requests.length, 1, 'want no attempt after stop');
  });
});

describe('agent probes: tcpSocket', () => {
  it('tcpSocket: healthy while the app listens, ECONNREFUSED after it closes', async (t) => {
    const server = createTcpServer((socket) => socket.destroy());
    const port = await listenOnLoopback(server);
    t.after(() => server.close());
    const probe = watch(t, { ...FAST, failureThreshold: 2, tcpSocket: { port } });
    assertState(
      await probe.next('healthy'),
      true,
      new RegExp(`^connect 127\\.0\\.0\\.1:${port}: connected after 1 success$`),
    );
    server.close();
    assertState(
      await probe.next('unhealthy'),
      false,
      new RegExp(`^connect 127\\.0\\.0\\.1:${port}: ECONNREFUSED after 2 failures$`),
    );
  });
});

describe('agent probes: exec', () => {
  it("exec: sh -c 'exit 1' is unhealthy with its exit code; 'exit 0' is healthy", async (t) => {
    const failing = watch(t, {
      ...FAST,
      failureThreshold: 1,
      exec: { command: ['sh', '-c', 'echo db down >&2; exit 1'] },
    });
    assertState(
      await failing.next('unhealthy'),
      false,
      /^exec sh -c 'echo db down >&2; exit 1': exit code 1: db down after 1 failure$/,
    );
    const passing = watch(t, { ...FAST, exec: { command: ['sh', '-c', 'exit 0'] } });
    assertState(await passing.next('healthy'), true, /^exec sh -c 'exit 0': exit code 0 after 1 success$/);
  });

  it('exec: a command past the timeout is killed, with what it started', async (t) => {
    const dir = tempDir('probe-exec');
    t.after(() => removeDir(dir));
    const pidFile = join(dir, 'pid');
    const probe = watch(t, {
      periodMs: 10_000,
      timeoutMs: 150,
      failureThreshold: 1,
      exec: { command: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`] },
    });
    assertState(
      await probe.next('unhealthy'),
      false,
      /^exec sh -c '.*': no answer within 150 ms after 1 failure$/,
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await pollUntil(
      `the command's child (pid ${pid}) killed`,
      2000,
      () => !isAlive(pid),
      () => `pid ${pid} still running`,
    );
  });

  it('exec: a command that does not exist is unhealthy with ENOENT', async (t) => {
    const probe = watch(t, { ...FAST, failureThreshold: 1, exec: { command: ['/nonexistent/check'] } });
    assertState(await probe.next('unhealthy'), false, /^exec \/nonexistent\/check: ENOENT after 1 failure$/);
  });
});

/** Whether `pid` runs: a zombie (killed, waiting for its new parent to reap it) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// grpc.health.v1 for grpc-js, with hand-written protobuf: the request's field 1 (string service),
// the response's field 1 (enum status).
const HEALTH = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: ({ service }: { service: string }) => Buffer.from(service),
    // An object, never '': grpc-js takes a falsy request for a missing one.
    requestDeserialize: (bytes: Buffer) => ({
      service: bytes.length === 0 ? '' : bytes.subarray(2, 2 + (bytes[1] ?? 0)).toString(),
    }),
    responseSerialize: (status: number) => (status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status])),
    responseDeserialize: (bytes: Buffer) => bytes[1] ?? 0,
  },
} satisfies grpc.ServiceDefinition;

const SERVING = 1;
const NOT_SERVING = 2;

async function startHealthServer(t: TestContext, statuses: Map<string, number>): Promise<number> {
  const server = new grpc.Server();
  server.addService(HEALTH, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, number>, done: grpc.sendUnaryData<number>) => {
      const status = statuses.get(call.request.service);
      if (status === undefined) done({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else done(null, status);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err === null ? resolve(bound) : reject(err),
    );
  });
  t.after(() => server.forceShutdown());
  return port;
}

describe('agent probes: grpc', () => {
  it('grpc: healthy while SERVING, unhealthy after failures of NOT_SERVING', async (t) => {
    const statuses = new Map([['shop.Cart', SERVING]]);
    const port = await startHealthServer(t, statuses);
    const probe = watch(t, { ...FAST, failureThreshold: 2, grpc: { port, service: 'shop.Cart' } });
    const what = `grpc 127\\.0\\.0\\.1:${port} Health/Check shop\\.Cart`;
    assertState(await probe.next('healthy'), true, new RegExp(`^${what}: SERVING after 1 success$`));
    statuses.set('shop.Cart', NOT_SERVING);
    assertState(await probe.next('unhealthy'), false, new RegExp(`^${what}: NOT_SERVING after 2 failures$`));
    statuses.set('shop.Cart', SERVING);
    assertState(await probe.next('healthy again'), true, new RegExp(`^${what}: SERVING after 1 success$`));
  });

  it('grpc: the whole server (service "") and an unknown service (NOT_FOUND)', async (t) => {
    const port = await startHealthServer(t, new Map([['', SERVING]]));
    const whole = watch(t, { ...FAST, grpc: { port } });
    assertState(await whole.next('healthy'), true, /Health\/Check: SERVING after 1 success$/);
    const unknown = watch(t, { ...FAST, failureThreshold: 1, grpc: { port, service: 'nope' } });
    assertState(
      await unknown.next('unhealthy'),
      false,
      /Health\/Check nope: grpc-status 5 NOT_FOUND: unknown service after 1 failure$/,
    );
  });

  it('grpc: nothing listening is unhealthy with ECONNREFUSED', async (t) => {
    const server = createTcpServer();
    const port = await listenOnLoopback(server);
    await new Promise((resolve) => server.close(resolve));
    const probe = watch(t, { ...FAST, failureThreshold: 1, grpc: { port } });
    assertState(await probe.next('unhealthy'), false, /: ECONNREFUSED after 1 failure$/);
  });
});
