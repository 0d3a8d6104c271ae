// Config reload: a change to the proxies' config folder goes live without dropping a request in
// flight, and a folder that stops validating leaves the last good snapshot in force.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type RunningProxy, removeDir, tempDir, waitForLog } from './harness.ts';
import {
  type Mesh,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

/** The mesh: client (127.0.10.1) → web (.2); `extra` documents are appended as they are. */
function config(appPort: number, extra = ''): string {
  return `${yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    workloadEntry('web', 'shop', '127.0.10.2'),
    workloadEntry('client', 'shop', '127.0.10.1'),
    sidecarIngress('web', 'shop', [
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: `127.0.0.1:${appPort}` },
    ]),
    sidecarEgress('client', 'shop', [
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, bind: '127.0.10.1', hosts: ['./*'] },
    ]),
  )}${extra}`;
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
  let mesh: Mesh;
  let proxies: RunningProxy[];

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
    mesh = await startMesh({
      dir,
      yaml: config(appPort),
      workloads: [{ name: 'web' }, { name: 'client' }],
    });
    configFile = mesh.configFile;
    proxies = mesh.proxies;
  });

  after(async () => {
    await mesh.stop();
    app.closeAllConnections();
    app.close();
    removeDir(dir);
  });

  it('reload: a request in flight during a config change completes, and the change goes live', async () => {
    const inFlight = get('/slow');
    await slowArrived;
    const extra = `---\n${service('extra', 'shop', [{ name: 'http', port: 8081 }], 'web')}`;
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
    const dump = (await (await fetch(`${mesh.proxy('client').admin}/config_dump`)).json()) as {
      clusters: { name: string }[];
    };
    assert.ok(
      dump.clusters.some((c) => c.name === 'outbound|8081||extra.shop.svc.cluster.local'),
      'want the new service in the client proxy snapshot',
    );
    assert.deepEqual(await get('/after'), { status: 200, body: 'fast' });
  });

  it('reload: a folder that no longer validates keeps the last good snapshot in force', async () => {
    const client = mesh.proxy('client');
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
