// Config reload: a change to the proxies' config folder goes live without dropping a request in
// flight, and a folder that stops validating leaves the last good snapshot in force.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { meshCa } from './certs.ts';
import { type RunningProxy, removeDir, startProxy, tempDir, waitForLog } from './harness.ts';

function config(appPort: number, extra = ''): string {
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
spec: {address: 127.0.10.2, labels: {app: web}, serviceAccount: web}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: shop}
spec: {address: 127.0.10.1, labels: {app: client}, serviceAccount: client}
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
    bind: 127.0.10.1
    hosts: ["./*"]
${extra}`;
}

/** A request through the client's local port; resolves with status and body when it completes. */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.10.1', port: 8080, path, headers: { host: 'web.shop:8080' }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('proxy: config reload', () => {
  let dir: string;
  let configFile: string;
  let app: Server;
  let appPort: number;
  let releaseSlow: (() => void) | undefined;
  let slowArrived: Promise<void>;
  const proxies: RunningProxy[] = [];

  before(async () => {
    dir = tempDir('reload');
    let arrived: () => void = () => undefined;
    slowArrived = new Promise((resolve) => {
      arrived = resolve;
    });
    app = createServer((req, res) => {
      if (req.url === '/slow') {
        arrived();
        releaseSlow = () => res.end('slow done');
        return;
      }
      res.end('fast');
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    appPort = (app.address() as { port: number }).port;
    const issue = meshCa(dir);
    mkdirSync(join(dir, 'config'));
    configFile = join(dir, 'config', 'mesh.yaml');
    writeFileSync(configFile, config(appPort));
    for (const sa of ['web', 'client']) {
      const c = issue(`spiffe://cluster.local/ns/shop/sa/${sa}`, sa);
      proxies.push(
        await startProxy([
          '--config',
          join(dir, 'config'),
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

  it('reload: a request in flight during a config change completes, and the change goes live', async () => {
    const inFlight = get('/slow');
    await slowArrived;
    const extra = `---\napiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 8081}]\n`;
    writeFileSync(configFile, config(appPort, extra));
    const versions = proxies.map((p) => p.logs.filter((l) => l.msg === 'snapshot applied').length);
    await Promise.all(
      proxies.map((p, i) =>
        waitForLog(
          p,
          (l) =>
            l.msg === 'snapshot applied' &&
            p.logs.filter((x) => x.msg === 'snapshot applied').length > (versions[i] ?? 0),
        ),
      ),
    );
    releaseSlow?.();
    const slow = await inFlight;
    assert.deepEqual(
      slow,
      { status: 200, body: 'slow done' },
      'want the request in flight to complete across the reload',
    );
    const dump = (await (await fetch(`${proxies[1]?.admin}/config_dump`)).json()) as {
      clusters: { name: string }[];
    };
    assert.ok(
      dump.clusters.some((c) => c.name === 'outbound|8081||extra.shop.svc.cluster.local'),
      'want the new service in the client proxy snapshot',
    );
    assert.deepEqual(await get('/after'), { status: 200, body: 'fast' });
  });

  it('reload: a folder that no longer validates keeps the last good snapshot in force', async () => {
    const client = proxies[1] as RunningProxy;
    const before = ((await (await fetch(`${client.admin}/config_dump`)).json()) as { version: string })
      .version;
    writeFileSync(
      configFile,
      `${config(appPort)}---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: broken, namespace: shop}\nspec: {address: 127.0.10.9, weight: -1}\n`,
    );
    await waitForLog(client, (l) => l.msg === 'config change refused, keeping the last good snapshot');
    const after = ((await (await fetch(`${client.admin}/config_dump`)).json()) as { version: string })
      .version;
    assert.equal(after, before, 'want the snapshot unchanged');
    assert.deepEqual(await get('/still'), { status: 200, body: 'fast' }, 'want traffic unaffected');
  });
});
