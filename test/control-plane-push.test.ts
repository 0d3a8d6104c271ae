// The control plane drives proxies over the stream: real `alder proxy --control-plane` processes,
// an in-process control plane with its mesh port, real HTTP through the mesh. A change stored is
// pushed, ACKed and in force; a change a proxy refuses is NACKed and the last good config serves;
// proxies keep serving when the control plane goes, and a proxy restarted then serves from disk.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSources } from '../src/config/index.ts';
import { type ControlPlane, startControlPlane } from '../src/control/index.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { meshCa } from './certs.ts';
import { okApp } from './connection-kit.ts';
import { virtualServiceHeader } from './control-plane-kit.ts';
import { eventually, type RunningProxy, removeDir, startProxy, tempDir } from './harness.ts';
import { curl, sidecarEgress, sidecarPort, workloadEntryWith, yamlDocs } from './mesh-fixture.ts';
import { clientWebYaml } from './mesh-yaml.ts';

const CLIENT = '127.0.91.1';
const WEB = '127.0.91.2';
const WEB2 = '127.0.91.3';
const silent = createLogger({ level: 'error' });

async function store(cp: ControlPlane, yaml: string): Promise<number> {
  const loaded = loadSources([{ name: 'test.yaml', text: yaml }]);
  assert.deepEqual(loaded.errors, [], 'want the test config to load');
  const out = await cp.store.write(
    loaded.resources.map((r) => ({ op: 'apply' as const, object: r.resource })),
  );
  return Number(out.revision);
}

describe('config pushed by the control plane over the stream', () => {
  let dir: string;
  let cp: ControlPlane;
  let app: Awaited<ReturnType<typeof okApp>>;
  let issue: ReturnType<typeof meshCa>;
  let cpTls: { key: string; cert: string; ca: string };
  let meshPort: number;
  const proxies: RunningProxy[] = [];
  let web2: RunningProxy | undefined;
  let blocker: NetServer;

  const startCp = async () => {
    cp = await startControlPlane({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: dir,
      maxBodyBytes: 1 << 20,
      log: silent,
      mesh: { listen: { host: '127.0.0.1', port: meshPort }, tls: cpTls, debounceMs: 20 },
    });
    meshPort = Number(new URL(cp.meshUrl as string).port);
  };
  const proxyArgs = (name: string, extra: string[] = [], sa = name) => {
    const c = issue(`spiffe://cluster.local/ns/shop/sa/${sa}`, name);
    return [
      ...['--control-plane', `127.0.0.1:${meshPort}`, '--workload', `shop/${name}`],
      ...['--cert', c.cert, '--key', c.key, '--ca', c.ca, '--state-dir', join(dir, `state-${name}`)],
      ...extra,
    ];
  };

  before(async () => {
    dir = tempDir('alder-push-');
    issue = meshCa(dir);
    const c = issue('spiffe://cluster.local/ns/alder-system/sa/control-plane,IP:127.0.0.1', 'control-plane');
    cpTls = {
      key: readFileSync(c.key, 'utf8'),
      cert: readFileSync(c.cert, 'utf8'),
      ca: readFileSync(c.ca, 'utf8'),
    };
    meshPort = 0;
    await startCp();
    app = await okApp();
    await store(
      cp,
      yamlDocs(
        clientWebYaml({ client: CLIENT, web: WEB, appPort: app.port }),
        workloadEntryWith({ name: 'web2', address: WEB2, labels: { app: 'web' }, serviceAccount: 'web' }),
      ),
    );
    proxies.push(await startProxy(proxyArgs('web', ['--outbound-proxy', 'none'])));
    web2 = await startProxy(proxyArgs('web2', ['--outbound-proxy', 'none'], 'web'));
    proxies.push(await startProxy(proxyArgs('client', ['--outbound-proxy', `${CLIENT}:15001`])));
    blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(8080, CLIENT, resolve));
  });

  after(async () => {
    await Promise.all([...proxies, ...(web2 === undefined ? [] : [web2])].map((p) => p.stop()));
    blocker?.close();
    app?.server.close();
    await cp?.stop();
    removeDir(dir);
  });

  const viaClient = () => curl(['-s', '-i', '-x', `http://${CLIENT}:15001`, 'http://web.shop:8080/']);

  it('serves traffic with the config the control plane pushed', async () => {
    const r = await viaClient();
    assert.equal(r.status, 200, `want 200 through the pushed config, got ${r.status}: ${r.body}`);
    const status = cp.distributor?.status() ?? [];
    assert.deepEqual(
      status.map((s) => s.workload).sort(),
      ['shop/client', 'shop/web', 'shop/web2'],
      'want every proxy connected',
    );
    for (const s of status) {
      assert.equal(
        s.identity,
        `spiffe://cluster.local/ns/shop/sa/${s.workload === 'shop/web2' ? 'web' : s.workload.split('/')[1]}`,
      );
      for (const [type, t] of Object.entries(s.types))
        assert.equal(t?.state, 'SYNCED', `${s.workload} ${type}`);
    }
  });

  it('puts a stored route change in force once every proxy has ACKed it', async () => {
    const revision = await store(cp, virtualServiceHeader('pushed'));
    await eventually(
      `every proxy synced at revision ${revision}`,
      async () =>
        cp.distributor?.status().every((s) => Number(s.syncedRevision) >= revision) ? true : undefined,
      5000,
    );
    const r = await viaClient();
    assert.match(r.headers, /x-route: pushed/, `want the new route's header at once; got ${r.headers}`);
  });

  it("takes a workload whose proxy is killed out of every caller's endpoints within 5 s, and back when it returns", async () => {
    const client = proxies[1] as RunningProxy;
    const web2Endpoints = async () => {
      const res = await fetch(`${client.admin}/endpoints`);
      const body = (await res.json()) as { endpoints: { workload: string; cluster: string }[] };
      return body.endpoints.filter((e) => e.workload === 'web2' && e.cluster.includes('web.shop')).length;
    };
    assert.ok((await web2Endpoints()) > 0, 'want web2 among the endpoints of web first');
    const killed = performance.now();
    web2?.process.kill('SIGKILL');
    await eventually(
      'web2 out of the client proxy endpoints',
      async () => ((await web2Endpoints()) === 0 ? true : undefined),
      5000,
    );
    const took = performance.now() - killed;
    assert.ok(took < 5000, `want web2 out of rotation within 5 s, took ${took.toFixed(0)} ms`);
    web2 = await startProxy(proxyArgs('web2', ['--outbound-proxy', 'none'], 'web'));
    await eventually(
      'web2 back in the endpoints',
      async () => ((await web2Endpoints()) > 0 ? true : undefined),
      5000,
    );
    const stopped = performance.now();
    await web2.stop();
    await eventually(
      'web2 out at once after a clean stop',
      async () => ((await web2Endpoints()) === 0 ? true : undefined),
      2000,
    );
    assert.ok(performance.now() - stopped < 2000, 'want a clean stop to take the workload out at once');
    web2 = undefined;
  });

  it('keeps the last good config when a proxy refuses a push, and shows NACKED with the reason', async () => {
    // An egress listener on a port another process holds: the client's proxy cannot bind it.
    const revision = await store(
      cp,
      sidecarEgress('client', 'shop', [{ port: sidecarPort(8080, 'HTTP'), bind: CLIENT, hosts: ['./*'] }]),
    );
    const row = await eventually(
      'the client proxy to NACK the listener it cannot bind',
      async (seen) => {
        seen(cp.distributor?.status().find((s) => s.workload === 'shop/client'));
        return cp.distributor
          ?.status()
          .find((s) => s.workload === 'shop/client' && s.types.listener?.state === 'NACKED');
      },
      5000,
    );
    assert.match(
      String(row.lastError),
      /8080|EADDRINUSE|in use/,
      `want the reason named; got ${row.lastError}`,
    );
    const web = cp.distributor?.status().find((s) => s.workload === 'shop/web');
    assert.ok(Number(web?.syncedRevision) >= revision, 'want the web proxy, not concerned, synced');
    const r = await viaClient();
    assert.equal(r.status, 200, 'want the client proxy still serving its last good config');
    assert.match(r.headers, /x-route: pushed/);
    await cp.store.write([{ op: 'delete', ref: { kind: 'Sidecar', namespace: 'shop', name: 'client' } }]);
    await eventually(
      'the client proxy synced again once the bad Sidecar is gone',
      async () =>
        cp.distributor
          ?.status()
          .find((s) => s.workload === 'shop/client' && s.types.listener?.state === 'SYNCED'),
      5000,
    );
  });

  it('keeps serving while the control plane is gone, and a proxy restarted meanwhile serves from disk', async () => {
    await cp.stop();
    const r1 = await viaClient();
    assert.equal(r1.status, 200, 'want traffic to flow with the control plane down');
    const client = proxies.pop() as RunningProxy;
    await client.stop();
    proxies.push(await startProxy(proxyArgs('client', ['--outbound-proxy', `${CLIENT}:15001`])));
    const r2 = await viaClient();
    assert.equal(r2.status, 200, 'want a proxy restarted without a control plane to serve its saved config');
    assert.match(r2.headers, /x-route: pushed/, 'want the saved config, routes included');
    await startCp();
    await eventually(
      'both proxies reconnected to the restarted control plane',
      async () => (cp.distributor?.status().length === 2 ? true : undefined),
      20_000,
    );
  });
});
