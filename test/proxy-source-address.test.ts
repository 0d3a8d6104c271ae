// Two workloads on two loopback addresses of one machine: the caller's proxy connects to the callee's
// from the caller's own workload address, so the callee sees who called — in its socket table (what
// `ss -tn` shows on the callee's side) for the HBONE tunnel, an HTTP/2 port's own mTLS session and,
// with HBONE off, a direct mTLS connection; and the callee's app sees the same address in
// x-forwarded-for.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, createServer as createH2Server } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { h2Request, within } from './grpc-kit.ts';
import type { RunningProxy } from './harness.ts';
import { applyConfig, curl, type Mesh, TestBed } from './mesh-fixture.ts';
import {
  meshConfig,
  service,
  sidecarEgress,
  sidecarIngress,
  sidecarPort,
  workloadEntry,
  yamlDocs,
} from './mesh-yaml.ts';
import { tcpSocketsOf } from './socket-census.ts';

const CLIENT = '127.0.151.1';
const WEB = '127.0.151.2';

function config(ports: { http1: number; h2: number }, mesh?: string): string {
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    service('greeter', 'shop', [{ name: 'http2', port: 9090 }], 'web'),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('client', 'shop', CLIENT),
    sidecarIngress('web', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), appPort: ports.http1 },
      { port: sidecarPort(9090, 'HTTP2'), appPort: ports.h2 },
    ]),
    sidecarEgress('client', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), bind: CLIENT, hosts: ['./*'] },
      { port: sidecarPort(9090, 'HTTP2'), bind: CLIENT, hosts: ['./*'] },
    ]),
    ...(mesh === undefined ? [] : [meshConfig(mesh)]),
  );
}

/** The remote addresses (without ports) of the callee proxy's established connections on `local`. */
function callersOf(proxy: RunningProxy, local: string): string[] {
  return tcpSocketsOf(proxy.process.pid as number)
    .filter((s) => s.state === 'ESTABLISHED' && s.local === local)
    .map((s) => s.remote.slice(0, s.remote.lastIndexOf(':')));
}

describe("proxy: connections between proxies leave from the caller's workload address", () => {
  const bed = new TestBed('source');
  let ports: { http1: number; h2: number };
  let mesh: Mesh;
  const seenXff: (string | undefined)[] = [];

  before(async () => {
    const app = createServer((req, res) => {
      req.resume();
      seenXff.push(req.headers['x-forwarded-for'] as string | undefined);
      res.end('ok');
    });
    const h2 = createH2Server();
    h2.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    ports = { http1: await bed.listen(app), h2: await bed.listen(h2) };
    mesh = await bed.startMesh({
      yaml: config(ports),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it(`HBONE: the callee's tunnel port sees the caller at ${CLIENT}, and its app gets it in x-forwarded-for`, async () => {
    const r = await curl(['-H', 'Host: web.shop:8080', `http://${CLIENT}:8080/`]);
    assert.equal(r.status, 200, `want 200 through the tunnel, got ${r.status}: ${r.body}`);
    const callers = callersOf(mesh.proxy('web'), `${WEB}:15008`);
    assert.ok(callers.length > 0, `want the caller's tunnel open on ${WEB}:15008 after the request`);
    assert.deepEqual(
      [...new Set(callers)],
      [CLIENT],
      `want every tunnel into ${WEB}:15008 to come from the caller's workload address ${CLIENT}, not 127.0.0.1`,
    );
    assert.equal(seenXff.at(-1), CLIENT, `want the app to see x-forwarded-for ${CLIENT}`);
  });

  it(`HTTP/2 port: the callee's own mTLS session comes from ${CLIENT}`, async () => {
    const session = connect(`http://${CLIENT}:9090`);
    session.on('error', () => undefined);
    bed.defer(() => session.destroy());
    const r = await within(
      h2Request(session, { ':path': '/', ':authority': 'greeter.shop:9090' }),
      'the HTTP/2 response',
    );
    assert.equal(r.status, 200, `want 200 from the HTTP/2 app, got ${r.status}: ${r.body}`);
    assert.deepEqual(
      [...new Set(callersOf(mesh.proxy('web'), `${WEB}:9090`))],
      [CLIENT],
      `want the session into ${WEB}:9090 to come from the caller's workload address ${CLIENT}`,
    );
  });

  it(`HBONE off: the direct mTLS connection to the callee's port comes from ${CLIENT}`, async () => {
    await applyConfig(mesh, config(ports, '{hbone: {enabled: false}}'));
    const r = await curl(['-H', 'Host: web.shop:8080', `http://${CLIENT}:8080/direct`]);
    assert.equal(r.status, 200, `want 200 over direct mTLS, got ${r.status}: ${r.body}`);
    assert.deepEqual(
      [...new Set(callersOf(mesh.proxy('web'), `${WEB}:8080`))],
      [CLIENT],
      `want the connection into ${WEB}:8080 to come from the caller's workload address ${CLIENT}`,
    );
  });
});
