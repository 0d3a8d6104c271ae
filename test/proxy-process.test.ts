// The edge of the proxy process: how `alder proxy` gets its snapshot (a config folder it compiles, or
// a snapshot file it only decodes), how it follows changes however they are written, how a refused
// change shows, what it loads, and who may call its admin port.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alder, eventually, type RunningProxy, startProxy, waitForLog } from './harness.ts';
import { TestBed } from './mesh-fixture.ts';
import { service, workloadEntry, yamlDocs } from './mesh-yaml.ts';

/** One workload `NAME` at ADDRESS serving Service NAME:8080, plus `extra` documents as they are. */
function mesh(name: string, address: string, extra = ''): string {
  return `${yamlDocs(service(name, 'shop', [{ name: 'http', port: 8080 }]), workloadEntry(name, 'shop', address))}${extra}`;
}

/** Another Service selecting the workload, so its cluster shows in the snapshot. */
function extraService(name: string): string {
  return `---\n${service(name, 'shop', [{ name: 'http', port: 8081 }], 'web')}`;
}

const BROKEN_ENTRY = `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: broken, namespace: shop}
spec: {address: 127.0.60.9, weight: -1}
`;

/** Writes `text` to `file` as editors and kubectl-style tools do: a temporary file renamed over it. */
function replaceByRename(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function adminGet(p: RunningProxy, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${p.admin}${path}`);
  return { status: res.status, text: await res.text() };
}

async function configDump(p: RunningProxy): Promise<Record<string, unknown> & { version: string }> {
  return JSON.parse((await adminGet(p, '/config_dump')).text) as Record<string, unknown> & {
    version: string;
  };
}

/** One series of /stats (`name{labels}` as rendered), or undefined when absent. */
async function stat(p: RunningProxy, series: string): Promise<number | undefined> {
  const line = (await adminGet(p, '/stats')).text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Resolves once the snapshot in force has a cluster for `host`:8081. */
function clusterLive(p: RunningProxy, host: string): Promise<true> {
  const cluster = `outbound|8081||${host}.shop.svc.cluster.local`;
  return eventually(`want cluster ${cluster} in /config_dump`, async (seen) => {
    const clusters = ((await configDump(p)).clusters as { name: string }[]).map((c) => c.name);
    seen(clusters);
    return clusters.includes(cluster) ? true : undefined;
  });
}

/** Resolves with /ready's body once it says the proxy serves an older snapshot. */
function staleReady(p: RunningProxy): Promise<string> {
  return eventually('want /ready to say an older snapshot is served', async (seen) => {
    const ready = await adminGet(p, '/ready');
    seen(ready);
    assert.equal(ready.status, 200, `want /ready 200 while serving an older snapshot, got ${ready.status}`);
    return ready.text.includes('serving an older snapshot') ? ready.text : undefined;
  });
}

describe('proxy process: --config DIR', () => {
  const bed = new TestBed('process-config');
  let file: string;
  let proxy: RunningProxy;
  let firstVersion: string;

  before(async () => {
    mkdirSync(join(bed.dir, 'config'));
    file = join(bed.dir, 'config', 'mesh.yaml');
    writeFileSync(file, mesh('web', '127.0.60.1'));
    proxy = await startProxy([
      ...['--config', join(bed.dir, 'config'), '--workload', 'shop/web', '--outbound-proxy', 'none'],
    ]);
    bed.defer(() => proxy.stop());
    firstVersion = (await configDump(proxy)).version;
  });

  after(() => bed.close());

  it('watch: a file replaced by rename, then written in place, then renamed over again: each change goes live', async () => {
    replaceByRename(file, mesh('web', '127.0.60.1', extraService('renamed')));
    await clusterLive(proxy, 'renamed');
    writeFileSync(file, mesh('web', '127.0.60.1', extraService('written')));
    await clusterLive(proxy, 'written');
    replaceByRename(file, mesh('web', '127.0.60.1', extraService('renamed-again')));
    await clusterLive(proxy, 'renamed-again');
    mkdirSync(join(bed.dir, 'config', 'more'));
    writeFileSync(join(bed.dir, 'config', 'more', 'extra.yaml'), extraService('in-subfolder').slice(4));
    await clusterLive(proxy, 'in-subfolder');
  });

  it('refused: a folder that fails to load or to compile is counted, and /ready, /config_dump and /stats say so', async () => {
    const rejected = 'alder_proxy_snapshots_total{outcome="rejected"}';
    rmSync(join(bed.dir, 'config', 'more'), { recursive: true, force: true });
    replaceByRename(file, mesh('web', '127.0.60.1'));
    await eventually('want the first snapshot back in force', async (seen) => {
      const version = (await configDump(proxy)).version;
      seen(version);
      return version === firstVersion ? true : undefined;
    });
    assert.equal(await stat(proxy, rejected), undefined, 'want no change refused yet');
    assert.equal(await stat(proxy, 'alder_proxy_snapshot_stale'), 0, 'want stale 0 while the change is live');

    replaceByRename(file, mesh('web', '127.0.60.1', BROKEN_ENTRY));
    const ready = await staleReady(proxy);
    const [head, why] = ready.split('\n');
    assert.equal(head, `ready ${firstVersion}`, `want /ready to name the version served, got ${ready}`);
    assert.match(why ?? '', /refused: config in .* refused: .*WorkloadEntry shop\/broken: spec\.weight/);
    const dump = await configDump(proxy);
    assert.equal(dump.version, firstVersion, 'want the last good snapshot in /config_dump');
    const refusal = dump.lastRefused as { at: string; reason: string } | undefined;
    assert.match(
      refusal?.reason ?? '',
      /WorkloadEntry shop\/broken/,
      'want lastRefused.reason in /config_dump',
    );
    assert.ok(!Number.isNaN(Date.parse(refusal?.at ?? '')), `want lastRefused.at a time, got ${refusal?.at}`);
    assert.equal(await stat(proxy, rejected), 1, 'want the load failure counted as rejected');
    assert.equal(await stat(proxy, 'alder_proxy_snapshot_stale'), 1, 'want stale 1');

    // Loads, but does not compile for this workload: its WorkloadEntry is gone.
    writeFileSync(file, yamlDocs(service('web', 'shop', [{ name: 'http', port: 8080 }])));
    await eventually('want the compile failure counted', async (seen) => {
      const n = await stat(proxy, rejected);
      seen(n);
      return n === 2 ? true : undefined;
    });
    assert.match(
      await staleReady(proxy),
      /no WorkloadEntry shop\/web/,
      'want /ready to give the compile failure',
    );

    writeFileSync(file, mesh('web', '127.0.60.1'));
    await eventually('want /ready to say only the version once the folder is fixed', async (seen) => {
      const r = await adminGet(proxy, '/ready');
      seen(r);
      return r.text === `ready ${firstVersion}\n` ? true : undefined;
    });
    assert.equal((await configDump(proxy)).lastRefused, undefined, 'want no lastRefused once fixed');
    assert.equal(await stat(proxy, 'alder_proxy_snapshot_stale'), 0, 'want stale 0 once fixed');
    assert.equal(await stat(proxy, rejected), 2, 'want the refusals still counted');
  });
});

describe('proxy process: --snapshot FILE', () => {
  const bed = new TestBed('process-snapshot');
  let snapshotFile: string;
  let proxy: RunningProxy;
  let configModules: string[];
  /** Read when asked, so that it covers reloads and refusals done by then. */
  let snapshotModules: () => string[];
  let version: string;

  /** Runs a proxy with the module log hook; answers it and a reader of the modules it has loaded. */
  async function withModuleLog(name: string, args: string[]) {
    const log = join(bed.dir, `${name}.modules`);
    writeFileSync(log, '');
    const p = await startProxy(args, {
      nodeArgs: ['--import', join(import.meta.dirname, 'module-log.ts')],
      env: { ALDER_TEST_MODULE_LOG: log },
    });
    bed.defer(() => p.stop());
    return {
      p,
      modules: () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
    };
  }

  before(async () => {
    mkdirSync(join(bed.dir, 'config'));
    writeFileSync(join(bed.dir, 'config', 'mesh.yaml'), mesh('snap', '127.0.60.2'));
    const compiling = await withModuleLog('config', [
      ...['--config', join(bed.dir, 'config'), '--workload', 'shop/snap', '--outbound-proxy', 'none'],
    ]);
    const dump = await adminGet(compiling.p, '/config_dump');
    // A refused change loads what error reporting needs (the yaml library, for line numbers) too.
    writeFileSync(join(bed.dir, 'config', 'mesh.yaml'), mesh('snap', '127.0.60.2', BROKEN_ENTRY));
    await staleReady(compiling.p);
    configModules = compiling.modules();
    await compiling.p.stop();
    snapshotFile = join(bed.dir, 'snapshot.json');
    writeFileSync(snapshotFile, dump.text);
    version = (JSON.parse(dump.text) as { version: string }).version;
    const reading = await withModuleLog('snapshot', ['--snapshot', snapshotFile]);
    proxy = reading.p;
    snapshotModules = reading.modules;
  });

  after(() => bed.close());

  it('--snapshot: serves a saved /config_dump as it is', async () => {
    assert.equal(
      (await adminGet(proxy, '/ready')).text,
      `ready ${version}\n`,
      'want the dumped version served',
    );
    const ready = await waitForLog(proxy, (l) => l.msg === 'proxy ready');
    assert.equal(ready.workload, 'shop/snap', 'want the ready line to name the workload from the snapshot');
    assert.deepEqual(
      proxy.listeners.map((l) => `${l.address}:${l.port}`).sort(),
      ['127.0.60.2:15008', '127.0.60.2:8080'],
      'want the snapshot listeners bound',
    );
  });

  it('--snapshot: a file rewritten in place or renamed over goes live; one that does not decode is refused and shown', async () => {
    const dump = JSON.parse(readFileSync(snapshotFile, 'utf8')) as Record<string, unknown>;
    const served = (want: string) =>
      eventually(`want /ready to serve ${want}`, async (seen) => {
        const r = await adminGet(proxy, '/ready');
        seen(r.text);
        return r.text === `ready ${want}\n` ? true : undefined;
      });
    writeFileSync(snapshotFile, JSON.stringify({ ...dump, version: 'edited-in-place' }));
    await served('edited-in-place');
    replaceByRename(snapshotFile, JSON.stringify({ ...dump, version: 'renamed-over' }));
    await served('renamed-over');

    replaceByRename(snapshotFile, '{"wireVersion": 3, "version": ');
    const ready = await staleReady(proxy);
    assert.match(
      ready,
      /^ready renamed-over\n.*refused: snapshot is not JSON/,
      'want the decode failure on /ready',
    );
    assert.equal(await stat(proxy, 'alder_proxy_snapshots_total{outcome="rejected"}'), 1, 'want it counted');

    // A dump of a proxy serving an older snapshot carries lastRefused: it still decodes.
    const staleDump = await configDump(proxy);
    assert.ok(staleDump.lastRefused !== undefined, 'want lastRefused in the stale proxy /config_dump');
    writeFileSync(snapshotFile, JSON.stringify({ ...staleDump, version: 'from-a-stale-dump' }));
    await served('from-a-stale-dump');
  });

  const COMPILING = [
    { name: 'the yaml library', pattern: /\/node_modules\/yaml\// },
    { name: 'the js-yaml library', pattern: /\/node_modules\/js-yaml\// },
    { name: 'the compiler', pattern: /\/src\/compile\// },
    { name: 'the config model (index.ts)', pattern: /\/src\/config\/index\.ts$/ },
    { name: 'the config loader', pattern: /\/src\/config\/(load|parse)\.ts$/ },
    { name: 'the kind table', pattern: /\/src\/config\/kinds\/index\.ts$/ },
    { name: 'the folder compiler of the CLI', pattern: /\/src\/cli\/local-snapshots\.ts$/ },
  ];
  for (const c of COMPILING) {
    it(`--snapshot: loads no ${c.name}, which --config loads`, () => {
      assert.ok(
        configModules.some((m) => c.pattern.test(m)),
        `want --config to load ${c.name} (${c.pattern}), so that this check can fail; it loaded ${configModules.length} modules`,
      );
      const loaded = snapshotModules().filter((m) => c.pattern.test(m));
      assert.deepEqual(loaded, [], `want --snapshot to load no ${c.name}`);
    });
  }

  const START_FAILURES: { name: string; args: (dir: string) => string[]; code: number; stderr: RegExp }[] = [
    {
      name: 'neither source',
      args: () => [],
      code: 2,
      stderr: /proxy needs --snapshot FILE or --config DIR/,
    },
    {
      name: '--snapshot with --workload',
      args: (d) => ['--snapshot', join(d, 'snapshot.json'), '--workload', 'shop/snap'],
      code: 2,
      stderr: /--snapshot takes no --workload/,
    },
    {
      name: 'a missing file',
      args: (d) => ['--snapshot', join(d, 'missing.json')],
      code: 1,
      stderr: /cannot read .*missing\.json: no such file/,
    },
    { name: 'a folder', args: (d) => ['--snapshot', d], code: 1, stderr: /is a folder, not a snapshot file/ },
    {
      name: 'a file that is not a snapshot',
      args: (d) => ['--snapshot', join(d, 'bad.json')],
      code: 1,
      stderr: /snapshot refused: .*wireVersion/,
    },
  ];
  for (const c of START_FAILURES) {
    it(`--snapshot: ${c.name} stops the start with exit ${c.code}`, async () => {
      writeFileSync(join(bed.dir, 'bad.json'), '{"version": "x"}');
      const r = await alder(['proxy', '--admin', '127.0.0.1:0', ...c.args(bed.dir)]);
      assert.equal(r.code, c.code, `want exit ${c.code}, got ${r.code}; stderr: ${r.stderr}`);
      assert.match(r.stderr, c.stderr, `want stderr to match ${c.stderr}`);
    });
  }
});

/** An address of this machine other than loopback, or undefined when it has none. */
function outsideAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const a = addresses?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a !== undefined) return a.address;
  }
  return undefined;
}

describe('proxy process: the admin port', () => {
  const address = outsideAddress();
  const bed = new TestBed('process-admin');
  let proxy: RunningProxy;

  before(async () => {
    if (address === undefined) return;
    writeFileSync(join(bed.dir, 'mesh.yaml'), mesh('adm', '127.0.60.3'));
    proxy = await startProxy([
      ...[
        '--config',
        bed.dir,
        '--workload',
        'shop/adm',
        '--outbound-proxy',
        'none',
        '--admin',
        `${address}:0`,
      ],
    ]);
    bed.defer(() => proxy.stop());
  });

  after(() => bed.close());

  const skip = address === undefined ? 'this machine has no non-loopback IPv4 address to call from' : false;

  it('admin: bound to a non-loopback address, the proxy warns that remote callers get /ready only', {
    skip,
  }, async () => {
    const warning = await waitForLog(proxy, (l) => l.level === 'warn');
    assert.match(
      String(warning.msg),
      /non-loopback .*remote callers get \/ready only/,
      'want the warning at start',
    );
  });

  it('admin: a caller from another address gets /ready', { skip }, async () => {
    const ready = await adminGet(proxy, '/ready');
    assert.equal(ready.status, 200, `want /ready to answer ${address}, got ${ready.status} ${ready.text}`);
    assert.match(ready.text, /^ready /);
  });

  for (const path of [
    '/config_dump',
    '/stats',
    '/stats/prometheus',
    '/routes',
    '/clusters',
    '/endpoints',
    '/explain?authority=adm:8080',
    '/nothing',
  ]) {
    it(`admin: a caller from another address gets 403 on ${path}`, { skip }, async () => {
      const r = await adminGet(proxy, path);
      assert.equal(r.status, 403, `want 403 for ${path} from ${address}, got ${r.status}`);
      const body = JSON.parse(r.text) as { code: string; message: string };
      assert.equal(body.code, 'ALDER_FORBIDDEN', `want code ALDER_FORBIDDEN, got ${body.code}`);
      assert.match(
        body.message,
        /callers on this host only, from loopback addresses \(127\.0\.0\.0\/8, ::1\)/,
      );
    });
  }
});
