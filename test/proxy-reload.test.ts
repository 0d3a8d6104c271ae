// Config reload: a change to the proxies' config folder goes live without dropping a request in
// flight, and a folder that stops validating leaves the last good snapshot in force.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { waitForLog } from './harness.ts';
import { applyConfig, type Mesh, TestBed } from './mesh-fixture.ts';
import { clientWebYaml, service } from './mesh-yaml.ts';

/** The mesh: client (127.0.10.1) → web (.2); `extra` documents are appended as they are. */
function config(appPort: number, extra = ''): string {
  return `${clientWebYaml({ client: '127.0.10.1', web: '127.0.10.2', appPort, egress: true })}${extra}`;
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
  const bed = new TestBed('reload');
  let appPort: number;
  let releaseSlow: (() => void) | undefined;
  let slowArrived: Promise<void>;
  let mesh: Mesh;

  before(async () => {
    let arrived: () => void = () => undefined;
    slowArrived = new Promise((resolve) => {
      arrived = resolve;
    });
    const app = createServer((req, res) => {
      if (req.url === '/slow') {
        arrived();
        releaseSlow = () => res.end('slow done');
        return;
      }
      res.end('fast');
    });
    appPort = await bed.listen(app);
    mesh = await bed.startMesh({ yaml: config(appPort), workloads: [{ name: 'web' }, { name: 'client' }] });
  });

  after(() => bed.close());

  it('reload: a request in flight during a config change completes, and the change goes live', async () => {
    const inFlight = get('/slow');
    await slowArrived;
    const extra = `---\n${service('extra', 'shop', [{ name: 'http', port: 8081 }], 'web')}`;
    await applyConfig(mesh, config(appPort, extra));
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
      mesh.configFile,
      `${config(appPort)}---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: broken, namespace: shop}\nspec: {address: 127.0.10.9, weight: -1}\n`,
    );
    await waitForLog(client, (l) => l.msg === 'config change refused, keeping the last good snapshot');
    const after = ((await (await fetch(`${client.admin}/config_dump`)).json()) as { version: string })
      .version;
    assert.equal(after, before, 'want the snapshot unchanged');
    assert.deepEqual(await get('/still'), { status: 200, body: 'fast' }, 'want traffic unaffected');
  });
});
