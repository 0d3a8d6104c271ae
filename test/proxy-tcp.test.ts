// L4 through two real proxies: client app → local port (Sidecar egress) → proxy A → mTLS → proxy B →
// echo app, with half-close; a wrong peer certificate, an unreachable endpoint, and plaintext to a
// STRICT port are refused.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningProxy, removeDir, tempDir } from './harness.ts';
import {
  type Mesh,
  rawExchange,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

/** An app that echoes what it receives and, when the client half-closes, says "bye" and closes. */
async function echoApp(): Promise<{ server: Server; port: number; received: string[]; close(): void }> {
  const received: string[] = [];
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
      s.write(d);
    });
    s.on('end', () => {
      received.push(text);
      s.end('bye');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = () => {
    server.close();
    for (const s of open) s.destroy();
  };
  return { server, port: (server.address() as { port: number }).port, received, close };
}

/** The mesh: client (net.1) → echo (net.2); gone (net.3) has a WorkloadEntry but nothing listening. */
function config(net: string, appPort: number, echoSa = 'echo'): string {
  return yamlDocs(
    service('echo', 'shop', [{ name: 'tcp-echo', port: 9000 }]),
    service('gone', 'shop', [{ name: 'tcp-gone', port: 9001 }]),
    workloadEntry('echo', 'shop', `${net}.2`, echoSa),
    workloadEntry('gone', 'shop', `${net}.3`),
    workloadEntry('client', 'shop', `${net}.1`),
    sidecarIngress('echo', 'shop', [
      { port: { number: 9000, protocol: 'TCP', name: 'tcp-echo' }, defaultEndpoint: `127.0.0.1:${appPort}` },
    ]),
    sidecarEgress('client', 'shop', [
      {
        port: { number: 9000, protocol: 'TCP', name: 'tcp-echo' },
        bind: `${net}.1`,
        hosts: ['./echo.shop.svc.cluster.local'],
      },
      {
        port: { number: 9001, protocol: 'TCP', name: 'tcp-gone' },
        bind: `${net}.1`,
        hosts: ['./gone.shop.svc.cluster.local'],
      },
    ]),
  );
}

describe('proxy: TCP through two proxies with mTLS', () => {
  let dir: string;
  let app: Awaited<ReturnType<typeof echoApp>>;
  let mesh: Mesh;
  const meshes: Mesh[] = [];
  let client: RunningProxy;

  before(async () => {
    dir = tempDir('tcp');
    app = await echoApp();
    mesh = await startMesh({
      dir,
      yaml: config('127.0.5', app.port),
      workloads: [{ name: 'echo' }, { name: 'client', outboundProxy: '127.0.5.1:15001' }],
    });
    meshes.push(mesh);
    client = mesh.proxy('client');
  });

  after(async () => {
    for (const m of meshes) await m.stop();
    app.close();
    removeDir(dir);
  });

  it('tcp: echoes bytes both ways and keeps half-close through both proxies', async () => {
    const { reply, ended } = await rawExchange('127.0.5.1', 9000, 'hello mesh');
    assert.equal(reply, 'hello meshbye', 'want the echo, then the reply sent after our half-close');
    assert.equal(ended, true, 'want the far side to close after its reply');
    assert.ok(
      app.received.includes('hello mesh'),
      `want the app to receive the bytes, got ${JSON.stringify(app.received)}`,
    );
  });

  it('tcp: CONNECT through the forward proxy (HTTP_PROXY) tunnels to a TCP service over mTLS', async () => {
    const s: Socket = connect({ host: '127.0.5.1', port: 15001, allowHalfOpen: true });
    let reply = '';
    s.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n\r\n') && !reply.includes('tunnelled')) s.end('tunnelled');
    });
    const closed = new Promise((resolve) => s.once('close', resolve));
    await once(s, 'connect');
    s.write('CONNECT echo.shop:9000 HTTP/1.1\r\nHost: echo.shop:9000\r\n\r\n');
    s.on('end', () => s.end());
    await closed;
    assert.equal(
      reply,
      'HTTP/1.1 200 Connection Established\r\n\r\ntunnelledbye',
      'want the tunnel, then the echo and the reply after half-close',
    );
  });

  it('tcp: a plaintext connection to a STRICT inbound port is refused and reaches no app', async () => {
    const before = app.received.length;
    const { reply } = await rawExchange('127.0.5.2', 9000, 'sneaky plaintext');
    assert.equal(reply, '', 'want no answer to plaintext on a STRICT port');
    assert.equal(app.received.length, before, 'want the app to have received nothing');
  });

  it('tcp: an unreachable endpoint closes the connection and counts flag UF', async () => {
    const { reply } = await rawExchange('127.0.5.1', 9001, 'anyone?');
    assert.equal(reply, '');
    const stats = await (await fetch(`${client.admin}/stats`)).text();
    assert.match(
      stats,
      /alder_proxy_local_replies_total\{listener="egress\|9001",flag="UF"\} 1/,
      `want one UF in /stats, got:\n${stats}`,
    );
  });

  it('tcp: a peer presenting the wrong SPIFFE identity is refused', async () => {
    // The same mesh on 127.0.6.x, where the echo workload presents the imposter's certificate.
    const imposter = await startMesh({
      dir,
      folder: 'imposter',
      issue: mesh.issue,
      yaml: config('127.0.6', app.port),
      workloads: [{ name: 'echo', serviceAccount: 'imposter' }, { name: 'client' }],
    });
    meshes.push(imposter);
    const from = imposter.proxy('client');
    const before = app.received.length;
    const { reply } = await rawExchange('127.0.6.1', 9000, 'secret');
    assert.equal(reply, '', 'want no connection to a peer with the wrong identity');
    assert.equal(app.received.length, before, 'want the app to have received nothing');
    const stats = await (await fetch(`${from.admin}/stats`)).text();
    assert.match(stats, /flag="UF"\} 1/, `want the refusal counted as UF, got:\n${stats}`);
  });

  it('admin: serves /ready and /config_dump with the snapshot version', async () => {
    const ready = await fetch(`${client.admin}/ready`);
    assert.equal(ready.status, 200);
    const dump = (await (await fetch(`${client.admin}/config_dump`)).json()) as {
      version: string;
      proxy: { spiffeId: string };
    };
    assert.match(await ready.text(), new RegExp(dump.version));
    assert.equal(dump.proxy.spiffeId, 'spiffe://cluster.local/ns/shop/sa/client');
  });
});
