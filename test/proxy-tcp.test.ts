// L4 through two real proxies: client app → local port (Sidecar egress) → proxy A → mTLS → proxy B →
// echo app, with half-close; a wrong peer certificate, an unreachable endpoint, and plaintext to a
// STRICT port are refused.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningProxy } from './harness.ts';
import { type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import { service, sidecarEgress, sidecarIngress, sidecarPort, workloadEntry, yamlDocs } from './mesh-yaml.ts';

/** An app that echoes what it receives and, when the client half-closes, says "bye" and closes. */
function echoApp(): { server: Server; received: string[] } {
  const received: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
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
  return { server, received };
}

/** The mesh: client (net.1) → echo (net.2); gone (net.3) has a WorkloadEntry but nothing listening. */
function config(net: string, appPort: number, echoSa = 'echo'): string {
  const numbers = { echo: 9000, gone: 9001 };
  const port = (name: keyof typeof numbers) => sidecarPort(numbers[name], 'TCP', `tcp-${name}`);
  const egress = (name: keyof typeof numbers) => ({
    port: port(name),
    bind: `${net}.1`,
    hosts: [`./${name}.shop.svc.cluster.local`],
  });
  return yamlDocs(
    service('echo', 'shop', [{ name: 'tcp-echo', port: 9000 }]),
    service('gone', 'shop', [{ name: 'tcp-gone', port: 9001 }]),
    workloadEntry('echo', 'shop', `${net}.2`, echoSa),
    workloadEntry('gone', 'shop', `${net}.3`),
    workloadEntry('client', 'shop', `${net}.1`),
    sidecarIngress('echo', 'shop', [{ port: port('echo'), appPort }]),
    sidecarEgress('client', 'shop', [egress('echo'), egress('gone')]),
  );
}

describe('proxy: TCP through two proxies with mTLS', () => {
  const bed = new TestBed('tcp');
  const app = echoApp();
  let appPort: number;
  let mesh: Mesh;
  let client: RunningProxy;

  before(async () => {
    appPort = await bed.listen(app.server);
    mesh = await bed.startMesh({
      yaml: config('127.0.5', appPort),
      workloads: [{ name: 'echo' }, { name: 'client', outboundProxy: '127.0.5.1:15001' }],
    });
    client = mesh.proxy('client');
  });

  after(() => bed.close());

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
    const imposter = await bed.startMesh({
      folder: 'imposter',
      issue: mesh.issue,
      yaml: config('127.0.6', appPort),
      workloads: [{ name: 'echo', serviceAccount: 'imposter' }, { name: 'client' }],
    });
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
