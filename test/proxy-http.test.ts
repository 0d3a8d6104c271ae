// HTTP/1.1 through two real proxies with mTLS: the forward-proxy port (HTTP_PROXY) and an explicit
// local port, bodies both ways, the mesh's own headers, and 503s that say where they came from.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { curl, TestBed } from './mesh-fixture.ts';
import { clientWebYaml, service, workloadEntry, yamlDocs } from './mesh-yaml.ts';

const run = promisify(execFile);

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

function recordingApp(): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => {
      bodyBytes += d.length;
    });
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes };
      seen.push(entry);
      const body = JSON.stringify(entry);
      if (entry.url.startsWith('/stream')) {
        // No Content-Length: Node sends it chunked.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        res.end('part two');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-app': 'web',
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  return { server, seen };
}

/** The mesh: client (127.0.7.1) → web (.2); empty has no endpoints; down (.3) has nothing listening. */
function config(appPort: number): string {
  return yamlDocs(
    clientWebYaml({ client: '127.0.7.1', web: '127.0.7.2', appPort, egress: true }),
    service('empty', 'shop', [{ name: 'http', port: 8081 }]),
    service('down', 'shop', [{ name: 'http', port: 8082 }]),
    workloadEntry('down', 'shop', '127.0.7.3'),
  );
}

describe('proxy: HTTP/1.1 through two proxies with mTLS', () => {
  const bed = new TestBed('http');
  const app = recordingApp();

  before(async () => {
    await bed.startMesh({
      yaml: config(await bed.listen(app.server)),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: '127.0.7.1:15001' }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it('http: a GET through HTTP_PROXY reaches the app with the caller identity set by the mesh', async () => {
    const r = await curl([
      '-x',
      'http://127.0.7.1:15001',
      '-H',
      'x-forwarded-client-cert: By=forged',
      '-H',
      'x-alder-forged: 1',
      'http://web.shop:8080/hello?x=1',
    ]);
    assert.equal(r.status, 200, `want 200, got ${r.status}: ${r.body}`);
    const seen = JSON.parse(r.body) as Seen;
    assert.equal(seen.url, '/hello?x=1', 'want the origin-form path at the app');
    assert.equal(seen.headers.host, 'web.shop:8080');
    assert.equal(
      seen.headers['x-forwarded-client-cert'],
      'By=spiffe://cluster.local/ns/shop/sa/web;URI=spiffe://cluster.local/ns/shop/sa/client',
      'want the XFCC the inbound proxy set from the mTLS peer, not the forged one',
    );
    assert.equal(seen.headers['x-alder-forged'], undefined, 'want callers unable to send mesh headers');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'want an x-request-id added');
    assert.match(r.headers, /x-app: web/i, "want the app's own response headers");
    const lengths = r.headers.split('\r\n').filter((l) => /^content-length:/i.test(l));
    assert.equal(lengths.length, 1, `want exactly one Content-Length, got ${JSON.stringify(lengths)}`);
  });

  it('http: an explicit local port routes by Host, and bodies flow both ways (length and chunked)', async () => {
    const body = 'x'.repeat(100_000);
    const uploads = [
      { path: '/upload', headers: ['Host: web.shop.svc.cluster.local:8080'], framing: 'Content-Length' },
      {
        path: '/chunked',
        headers: ['Host: web.shop:8080', 'Transfer-Encoding: chunked'],
        framing: 'chunked',
      },
    ];
    for (const u of uploads) {
      const r = await curl([
        ...u.headers.flatMap((h) => ['-H', h]),
        ...['--data-binary', body, `http://127.0.7.1:8080${u.path}`],
      ]);
      assert.equal(r.status, 200, r.body);
      assert.equal(
        (JSON.parse(r.body) as Seen).bodyBytes,
        100_000,
        `want the whole ${u.framing} body at the app`,
      );
    }
    const streamed = await curl(['-H', 'Host: web.shop:8080', 'http://127.0.7.1:8080/stream']);
    assert.equal(streamed.body, 'part one, part two', 'want a chunked response passed on whole');
    assert.match(streamed.headers, /transfer-encoding: chunked/i);
  });

  it('http: keeps the client connection alive across requests', async () => {
    const r = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-w',
      '%{num_connects} ',
      '-H',
      'Host: web.shop:8080',
      'http://127.0.7.1:8080/a',
      'http://127.0.7.1:8080/b',
    ]);
    assert.equal(
      r.stdout.trim(),
      '1 0',
      `want the second request on the same connection, got connects ${r.stdout}`,
    );
  });

  it('http: a service with no endpoints answers 503 with flag UH and says so in words', async () => {
    const r = await curl(['-x', 'http://127.0.7.1:15001', 'http://empty.shop:8081/']);
    assert.equal(r.status, 503);
    assert.match(r.headers, /x-alder-response-flags: UH/i);
    assert.equal(r.body, 'no healthy endpoint for empty.shop:8081 (0 of 0 ready)\n');
  });

  it('http: an unreachable endpoint answers 503 with flag UF, never a hang', async () => {
    const r = await curl(['-x', 'http://127.0.7.1:15001', 'http://down.shop:8082/']);
    assert.equal(r.status, 503);
    assert.match(r.headers, /x-alder-response-flags: UF/i);
    assert.match(
      r.body,
      /upstream connect error for down\.shop:8082: cluster outbound\|8082\|\|down\.shop\.svc\.cluster\.local: endpoint 127\.0\.7\.3:8082 \(workload down, tunnel port 15008\): connection refused/,
    );
  });

  it('http: a host outside the registry is refused with flag NR (REGISTRY_ONLY)', async () => {
    const r = await curl(['-x', 'http://127.0.7.1:15001', 'http://example.com/']);
    assert.equal(r.status, 502);
    assert.match(r.headers, /x-alder-response-flags: NR/i);
    assert.match(r.body, /not in the mesh registry and outboundTrafficPolicy is REGISTRY_ONLY/);
  });

  it('http: an ambiguous request (Content-Length and Transfer-Encoding) is refused and reaches no app', async () => {
    const before = app.seen.length;
    const r = await curl([
      '-H',
      'Host: web.shop:8080',
      '-H',
      'Transfer-Encoding: chunked',
      '-H',
      'Content-Length: 5',
      '--data-binary',
      'hello',
      'http://127.0.7.1:8080/smuggle',
    ]);
    assert.equal(r.status, 400, `want 400, got ${r.status}`);
    assert.match(r.headers, /x-alder-response-flags: DPE/i);
    assert.equal(app.seen.length, before, 'want the app to have received nothing');
  });
});
