// A gRPC app that dies and comes back on the same port, behind two real proxies: steady unary calls
// fail fast while it is down (never hang past their deadline), and succeed again within 2 s of its
// restart, because the server proxy drops its dead HTTP/2 session to the app and opens a new one.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { grpcCall, within } from './grpc-kit.ts';
import { freePort } from './harness.ts';
import { TestBed } from './mesh-fixture.ts';
import { service, sidecarEgress, sidecarIngress, sidecarPort, workloadEntry, yamlDocs } from './mesh-yaml.ts';

const CLIENT = '127.0.72.1';
const GREETER = '127.0.72.2';
const CALL_DEADLINE_MS = 1_000;
const CALL_EVERY_MS = 50;

/** A gRPC greeter in a process of its own, on `port`: answers every call with grpc-status 0. */
const APP = `
const h2 = require('node:http2');
const server = h2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.resume();
  stream.on('end', () => stream.end(Buffer.from([0, 0, 0, 0, 2, 104, 105])));
});
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));
`;

async function startApp(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', APP, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await within(once(child.stdout as NodeJS.ReadableStream, 'data'), `the app listening on ${port}`, 10_000);
  return child;
}

interface Call {
  startedAt: number;
  /** grpc-status, or `hung` when nothing came within the deadline. */
  status: string;
  ms: number;
}

describe('proxy: an HTTP/2 app that restarts', () => {
  const bed = new TestBed('h2-restart');
  let appPort: number;
  let app: ChildProcess | undefined;

  before(async () => {
    appPort = await freePort();
    app = await startApp(appPort);
    bed.addApp(() => app?.kill('SIGKILL'));
    await bed.startMesh({
      yaml: yamlDocs(
        service('greeter', 'shop', [{ name: 'grpc', port: 9090 }]),
        workloadEntry('greeter', 'shop', GREETER),
        workloadEntry('client', 'shop', CLIENT),
        sidecarIngress('greeter', 'shop', [{ port: sidecarPort(9090, 'GRPC'), appPort }]),
        sidecarEgress('client', 'shop', [{ port: { number: 9090 }, bind: CLIENT, hosts: ['./*'] }]),
      ),
      workloads: [{ name: 'greeter' }, { name: 'client' }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it('h2 app restart: calls fail fast while the app is down and succeed within 2s of its restart', async (t) => {
    const session = connect(`http://${CLIENT}:9090`);
    session.on('error', () => undefined);
    const calls: Call[] = [];
    let isCalling = true;
    const caller = (async () => {
      while (isCalling) {
        const startedAt = performance.now();
        const call = grpcCall(session, 'greeter.shop:9090', '/shop.Greeter/SayHello', ['hi']).then(
          (r) => String(r.trailers['grpc-status'] ?? r.headers['grpc-status'] ?? 'none'),
          (err: Error) => `error ${err.message}`,
        );
        const status = await within(call, 'a call', CALL_DEADLINE_MS).catch(() => 'hung');
        calls.push({ startedAt, status, ms: performance.now() - startedAt });
        await new Promise((resolve) => setTimeout(resolve, CALL_EVERY_MS));
      }
    })();
    const okSince = (t: number) => calls.some((c) => c.startedAt >= t && c.status === '0');
    const waitFor = async (what: string, ms: number, check: () => boolean) => {
      const deadline = performance.now() + ms;
      while (!check()) {
        if (performance.now() > deadline)
          throw new Error(`want ${what} within ${ms}ms; calls: ${summary(calls)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      await waitFor('a successful call before the restart', 5_000, () => okSince(0));
      const killedAt = performance.now();
      (app as ChildProcess).kill('SIGKILL');
      await once(app as ChildProcess, 'exit');
      await waitFor('calls answered while the app is down', 3_000, () =>
        calls.some((c) => c.startedAt > killedAt + 200 && c.status !== '0'),
      );
      app = await startApp(appPort);
      const restartedAt = performance.now();
      await waitFor('a successful call after the restart', 5_000, () => okSince(restartedAt));
      const recoveredAt = (calls.find((c) => c.startedAt >= restartedAt && c.status === '0') as Call)
        .startedAt;
      const recoveryMs = recoveredAt - restartedAt;
      t.diagnostic(`first successful call ${Math.round(recoveryMs)}ms after the app was listening again`);
      assert.ok(
        recoveryMs < 2_000,
        `want calls to succeed within 2s of the restart, took ${Math.round(recoveryMs)}ms`,
      );
      // Calls after the first success stay successful: the new session is pooled.
      const settle = performance.now();
      await waitFor('five more calls', 3_000, () => calls.filter((c) => c.startedAt > settle).length >= 5);
      const later = calls.filter((c) => c.startedAt > settle);
      assert.deepEqual(
        later.map((c) => c.status),
        later.map(() => '0'),
        'want every call after the recovery to succeed',
      );
    } finally {
      isCalling = false;
      await caller;
      session.destroy();
    }
    const hung = calls.filter((c) => c.status === 'hung');
    assert.deepEqual(
      hung,
      [],
      `want no call to hang past its ${CALL_DEADLINE_MS}ms deadline; calls: ${summary(calls)}`,
    );
    const down = calls.filter((c) => c.status !== '0');
    assert.ok(
      down.every((c) => c.status === '14'),
      `want the calls made while the app was down answered UNAVAILABLE (14); calls: ${summary(calls)}`,
    );
  });
});

/** `status×count` runs of the calls in order, for failure messages. */
function summary(calls: Call[]): string {
  const runs: string[] = [];
  let last = '';
  let n = 0;
  for (const c of calls) {
    if (c.status === last) n++;
    else {
      if (n > 0) runs.push(`${last}×${n}`);
      last = c.status;
      n = 1;
    }
  }
  if (n > 0) runs.push(`${last}×${n}`);
  return runs.join(' ');
}
