// A port that names no protocol: with protocol detection off (the default) it is plain TCP, so the
// proxies move its bytes untouched; with detection on, an HTTP/1 request is found and handled at L7
// (strictly, with the mesh's headers), and anything else still passes as TCP.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { meshCa } from './certs.ts';
import { type RunningProxy, removeDir, startProxy, tempDir } from './harness.ts';

function config(net: string, appPort: number, detection: boolean): string {
  const mesh = detection
    ? '---\napiVersion: mesh.alder.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: default}\nspec: {protocolDetection: {enabled: true, timeout: 200ms}}\n'
    : '';
  return `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: web, port: 8090}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: web, namespace: shop}
spec: {address: ${net}.2, labels: {app: web}, serviceAccount: web}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: shop}
spec: {address: ${net}.1, labels: {app: client}, serviceAccount: client}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 8090, name: web}
    defaultEndpoint: 127.0.0.1:${appPort}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: client, namespace: shop}
spec:
  workloadSelector: {labels: {app: client}}
  egress:
  - port: {number: 8090, name: web}
    bind: ${net}.1
    hosts: ["./*"]
${mesh}`;
}

/** Raw bytes in, everything the other side sent until it closed out. */
async function raw(host: string, bytes: string): Promise<string> {
  const socket = connect({ host, port: 8090 });
  let reply = '';
  socket.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await once(socket, 'connect');
  socket.write(bytes);
  const timer = setTimeout(() => socket.end(), 1500);
  await closed;
  clearTimeout(timer);
  return reply;
}

const GET = (host: string) => `GET /who HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('proxy: protocol detection', () => {
  let dir: string;
  let app: Server;
  const seen: { xfcc: string | undefined }[] = [];
  const proxies: RunningProxy[] = [];

  before(async () => {
    dir = tempDir('sniff');
    app = createServer((req, res) => {
      seen.push({ xfcc: req.headers['x-forwarded-client-cert'] as string | undefined });
      req.resume();
      req.on('end', () => res.end('hello'));
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const appPort = (app.address() as { port: number }).port;
    const issue = meshCa(dir);
    for (const [net, detection] of [
      ['127.0.13', true],
      ['127.0.14', false],
    ] as const) {
      const configDir = join(dir, net);
      mkdirSync(configDir);
      writeFileSync(join(configDir, 'mesh.yaml'), config(net, appPort, detection));
      for (const sa of ['web', 'client']) {
        const c = issue(`spiffe://cluster.local/ns/shop/sa/${sa}`, `${net}-${sa}`);
        proxies.push(
          await startProxy([
            '--config',
            configDir,
            '--workload',
            `shop/${sa}`,
            '--outbound-proxy',
            'none',
            '--cert',
            c.cert,
            '--key',
            c.key,
            '--ca',
            c.ca,
          ]),
        );
      }
    }
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    app.closeAllConnections();
    app.close();
    removeDir(dir);
  });

  it('sniffing off: an unnamed port is TCP, its HTTP passes as bytes without the mesh headers', async () => {
    const before = seen.length;
    const reply = await raw('127.0.14.1', GET('web.shop:8090'));
    assert.match(
      reply,
      /^HTTP\/1\.1 200 OK/,
      `want the app's answer, got ${JSON.stringify(reply.slice(0, 40))}`,
    );
    assert.equal(seen.length, before + 1);
    assert.equal(
      seen.at(-1)?.xfcc,
      undefined,
      'want no L7 handling (no x-forwarded-client-cert) when detection is off',
    );
  });

  it('sniffing on: an HTTP/1 request is detected and handled at L7, with the caller identity', async () => {
    const reply = await raw('127.0.13.1', GET('web.shop:8090'));
    assert.match(reply, /^HTTP\/1\.1 200 OK/, `want the app's answer, got ${JSON.stringify(reply)}`);
    assert.equal(
      seen.at(-1)?.xfcc,
      'By=spiffe://cluster.local/ns/shop/sa/web;URI=spiffe://cluster.local/ns/shop/sa/client',
    );
    const stats = await (await fetch(`${proxies[1]?.admin}/stats`)).text();
    assert.match(
      stats,
      /alder_proxy_protocol_detected_total\{listener="egress\|8090",protocol="http1"\} \d/,
      `want the detection counted:\n${stats}`,
    );
  });

  it('sniffing on: a detected request that is ambiguous is refused like any HTTP, and reaches no app', async () => {
    const before = seen.length;
    const reply = await raw(
      '127.0.13.1',
      'POST /x HTTP/1.1\r\nHost: web.shop:8090\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.match(reply, /^HTTP\/1\.1 400 /, `want 400, got ${JSON.stringify(reply.slice(0, 40))}`);
    assert.match(reply, /x-alder-response-flags: DPE/i);
    assert.equal(seen.length, before, 'want the app to have received nothing');
  });

  it('sniffing on: bytes that are not HTTP still pass as TCP', async () => {
    const reply = await raw('127.0.13.1', '\x00\x01 not http at all\r\n\r\n');
    assert.match(
      reply,
      /^HTTP\/1\.1 400 /,
      `want the app's own refusal of the bytes, got ${JSON.stringify(reply.slice(0, 40))}`,
    );
    assert.doesNotMatch(reply, /x-alder-response-flags/i, 'want the bytes relayed, not refused by the proxy');
  });
});
