// Every hostile request of test/corpus/http1, sent as raw bytes over a socket to a real proxy — to an
// app's outbound port (then over mTLS to the app's inbound proxy) and straight to an inbound port —
// is refused with its expected status, and the app never receives a complete request.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { meshCa } from './certs.ts';
import { ROOT, type RunningProxy, removeDir, startProxy, tempDir } from './harness.ts';

const CORPUS = join(ROOT, 'test', 'corpus', 'http1');
const VALID = join(ROOT, 'test', 'corpus', 'http1-valid');
/** `goodBefore`: valid requests that precede the hostile one in the same file, which the app does get. */
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as Record<
  string,
  { status: number; reason: string; goodBefore?: number }
>;

/** Sends `bytes`, half-closes, and returns what came back before the proxy closed (2 s at most). */
async function exchange(host: string, port: number, bytes: Buffer): Promise<string> {
  const socket = connect({ host, port, allowHalfOpen: true });
  let reply = '';
  socket.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await once(socket, 'connect');
  socket.end(bytes);
  const timer = setTimeout(() => socket.destroy(), 2000);
  await closed;
  clearTimeout(timer);
  return reply;
}

function config(appPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: web, namespace: shop}
spec: {address: 127.0.9.2, labels: {app: web}, serviceAccount: web}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: shop}
spec: {address: 127.0.9.1, labels: {app: client}, serviceAccount: client}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  mtls: {mode: PERMISSIVE}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 8080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:${appPort}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: client, namespace: shop}
spec:
  workloadSelector: {labels: {app: client}}
  egress:
  - port: {number: 8080, protocol: HTTP, name: http}
    bind: 127.0.9.1
    hosts: ["./*"]
`;
}

describe('proxy: hostile HTTP/1.1 corpus', () => {
  let dir: string;
  let app: Server;
  let completeRequests = 0;
  let onRequest: (() => void) | undefined;
  /** Resolves when the app has seen `n` complete requests, or after 2 s (the assertion then tells). */
  const appCount = (n: number) =>
    new Promise<void>((resolve) => {
      if (completeRequests >= n) return resolve();
      const timer = setTimeout(resolve, 2000);
      onRequest = () => {
        if (completeRequests < n) return;
        clearTimeout(timer);
        resolve();
      };
    });
  const proxies: RunningProxy[] = [];

  before(async () => {
    dir = tempDir('hostile');
    app = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        completeRequests++;
        onRequest?.();
        res.end('ok');
      });
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const issue = meshCa(dir);
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'mesh.yaml'), config((app.address() as { port: number }).port));
    for (const sa of ['web', 'client']) {
      const c = issue(`spiffe://cluster.local/ns/shop/sa/${sa}`, sa);
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
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    app.closeAllConnections();
    app.close();
    removeDir(dir);
  });

  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.http'))
    .sort();

  it(`corpus: holds at least 150 hostile requests (has ${files.length})`, () => {
    assert.ok(files.length >= 150, `want at least 150 hostile requests, found ${files.length}`);
    for (const f of files) assert.ok(expected[f] !== undefined, `want ${f} listed in expected.json`);
  });

  // The outbound port routes by Host before it reads a body: the corpus's usual `a.example` becomes a
  // host the mesh knows, so that body defects are found (and not refused earlier as unknown hosts).
  const routable = (bytes: Buffer) =>
    Buffer.from(
      bytes.toString('latin1').replace('\r\nHost: a.example\r\n', '\r\nHost: web.shop:8080\r\n'),
      'latin1',
    );
  for (const [target, host, prepare] of [
    ['outbound port', '127.0.9.1', routable],
    ['inbound port', '127.0.9.2', (b: Buffer) => b],
  ] as const) {
    it(`hostile: every corpus request to the ${target} is refused with its status and reaches no app`, async () => {
      const wrong: string[] = [];
      for (const file of files) {
        const want = expected[file]?.status;
        const before = completeRequests;
        const good = expected[file]?.goodBefore ?? 0;
        const reply = await exchange(host, 8080, prepare(readFileSync(join(CORPUS, file))));
        await appCount(before + good);
        if (completeRequests !== before + good) {
          wrong.push(
            `${file}: want ${good} complete requests at the app (those before the hostile one), it got ${completeRequests - before}`,
          );
        }
        const got = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
        if (got !== want) wrong.push(`${file}: want ${want}, got ${got || 'no answer'}`);
        else if (!/\r\nx-alder-response-flags: DPE\r\n/i.test(reply))
          wrong.push(`${file}: want flag DPE on the refusal`);
      }
      assert.deepEqual(
        wrong,
        [],
        `want every hostile request refused as expected (${wrong.length} of ${files.length} were not)`,
      );
    });
  }

  it('valid corpus: the unusual but valid requests reach the app and are answered', async () => {
    const valid = readdirSync(VALID).filter(
      (f) => f.endsWith('.http') && !/absolute-form|connect|options-asterisk/i.test(f),
    );
    const wrong: string[] = [];
    for (const file of valid) {
      // Straight to the inbound port, which routes every request to its app whatever its Host.
      const reply = (await exchange('127.0.9.2', 8080, readFileSync(join(VALID, file)))).replace(
        /^HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n/,
        '',
      );
      if (!/^HTTP\/1\.1 200 /.test(reply))
        wrong.push(`${file}: want 200, got ${reply.split('\r\n')[0] || 'no answer'}`);
    }
    assert.deepEqual(wrong, [], 'want every valid request answered by the app');
  });
});
