// A proxy stops promptly on SIGTERM: after serving requests to a keep-alive app (whose idle pooled
// connections used to keep the process alive until their idle timeout), both proxies of a mesh exit
// 0 within a few seconds.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from './harness.ts';
import {
  type Mesh,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

const CLIENT = '127.0.72.1';
const WEB = '127.0.72.2';
const WEB_PORT = 18_081;
/** Listeners get 1 s to drain; the rest is process exit. */
const EXIT_WITHIN_MS = 4_000;

describe('proxy shutdown', () => {
  let dir: string;
  let app: Server;
  let mesh: Mesh;

  before(async () => {
    dir = tempDir('shutdown');
    // Node's server keeps connections alive (5 s by default; longer here so only the proxy can close them).
    app = createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    app.keepAliveTimeout = 120_000;
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const appPort = (app.address() as { port: number }).port;
    mesh = await startMesh({
      dir,
      yaml: yamlDocs(
        service('web', 'shop', [{ name: 'http', port: WEB_PORT }]),
        workloadEntry('client', 'shop', CLIENT),
        workloadEntry('web', 'shop', WEB),
        sidecarIngress('web', 'shop', [
          {
            port: { number: WEB_PORT, protocol: 'HTTP', name: 'http' },
            defaultEndpoint: `127.0.0.1:${appPort}`,
          },
        ]),
        sidecarEgress('client', 'shop', [
          { port: { number: WEB_PORT, protocol: 'HTTP', name: 'http' }, bind: CLIENT, hosts: ['./*'] },
        ]),
      ),
      workloads: [{ name: 'web' }, { name: 'client' }],
    });
  });

  after(async () => {
    await mesh?.stop();
    app?.closeAllConnections();
    app?.close();
    removeDir(dir);
  });

  it('exits 0 within seconds of SIGTERM after serving a keep-alive app', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await get(`http://${CLIENT}:${WEB_PORT}/`, `web.shop.svc.cluster.local:${WEB_PORT}`);
      assert.equal(res.status, 200, `want 200 through the mesh, got ${res.status}: ${res.body}`);
    }
    const started = performance.now();
    const exits = mesh.proxies.map(async (p, i) => {
      const code = await p.stop();
      return { name: i === 0 ? 'web' : 'client', code, ms: performance.now() - started };
    });
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, EXIT_WITHIN_MS, 'timeout').unref(),
    );
    for (const exit of exits) {
      const result = await Promise.race([exit, timeout]);
      assert.notEqual(
        result,
        'timeout',
        `want every proxy to exit within ${EXIT_WITHIN_MS} ms of SIGTERM; one is still running (an idle pooled connection holds it?)`,
      );
      if (result === 'timeout') return;
      assert.equal(result.code, 0, `want proxy ${result.name} to exit 0 on SIGTERM, got ${result.code}`);
    }
  });
});

/** GET with an explicit Host (fetch would send the URL's). */
function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no response from ${url} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}
