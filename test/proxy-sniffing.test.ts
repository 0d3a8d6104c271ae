// A port that names no protocol: with protocol detection off (the default) it is plain TCP, so the
// proxies move its bytes untouched; with detection on, an HTTP/1 request is found and handled at L7
// (strictly, with the mesh's headers), and anything else still passes as TCP.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { meshCa } from './certs.ts';
import { type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import { meshConfig, service, sidecarEgress, sidecarIngress, workloadEntry, yamlDocs } from './mesh-yaml.ts';

/** The mesh on `net`: client (net.1) → web (net.2) on port 8090, which names no protocol. */
function config(net: string, appPort: number, detection: boolean): string {
  const port = { number: 8090, name: 'web' };
  return yamlDocs(
    service('web', 'shop', [{ name: 'web', port: 8090 }]),
    workloadEntry('web', 'shop', `${net}.2`),
    workloadEntry('client', 'shop', `${net}.1`),
    sidecarIngress('web', 'shop', [{ port, appPort }]),
    sidecarEgress('client', 'shop', [{ port, bind: `${net}.1`, hosts: ['./*'] }]),
    ...(detection ? [meshConfig('{protocolDetection: {enabled: true, timeout: 200ms}}')] : []),
  );
}

/** Raw bytes in (no half-close), everything the other side sent until it closed (1.5 s at most) out. */
async function raw(host: string, bytes: string): Promise<string> {
  return (await rawExchange(host, 8090, bytes, { halfClose: false, timeoutMs: 1500 })).reply;
}

const GET = (host: string) => `GET /who HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('proxy: protocol detection', () => {
  const bed = new TestBed('sniff');
  const seen: { xfcc: string | undefined }[] = [];
  const meshes: Mesh[] = [];

  before(async () => {
    const app = createServer((req, res) => {
      seen.push({ xfcc: req.headers['x-forwarded-client-cert'] as string | undefined });
      req.resume();
      req.on('end', () => res.end('hello'));
    });
    const appPort = await bed.listen(app);
    // Two meshes side by side from one CA: detection on at 127.0.13.x, off at 127.0.14.x.
    const issue = meshCa(bed.dir);
    for (const [net, detection] of [
      ['127.0.13', true],
      ['127.0.14', false],
    ] as const) {
      const mesh = await bed.startMesh({
        folder: net,
        issue,
        yaml: config(net, appPort, detection),
        workloads: [{ name: 'web' }, { name: 'client' }],
      });
      meshes.push(mesh);
    }
  });

  after(() => bed.close());

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
    const stats = await (await fetch(`${meshes[0]?.proxy('client').admin}/stats`)).text();
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
