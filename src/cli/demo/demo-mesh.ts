// `alder demo` (and `npm start`): a living mesh on this machine. A control plane, the demo's Istio
// config from examples/demo, one node proxy for the host (or a proxy per workload with --sidecars),
// and Bookinfo's services each under `alder run` on a loopback address of its own: productpage →
// details, reviews v1/v2/v3 → ratings (gRPC) → kv (TCP), with a steady load generator. It tells
// what runs where and what to try, and Ctrl-C stops every process it started.

import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ApiClient } from '../client.ts';
import type { CliIo } from '../io.ts';
import { main } from '../main.ts';
import { type Child, Children } from './children.ts';
import { type DemoWorkload, demoWorkloads, NAMESPACE } from './workloads.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const CONFIG = join(ROOT, 'examples', 'demo');
const READY_MS = 60_000;

export interface DemoOptions {
  dataDir: string;
  sidecars: boolean;
  /** Extra synthetic services beyond Bookinfo's. */
  services: number;
  /** Stop after the mesh is ready and the load ran this long (ms); undefined: run until Ctrl-C. */
  onceMs: number | undefined;
  /** Requests per second of the load generator. */
  rps: number;
}

interface ControlPlane {
  child: Child;
  url: string;
  meshAddress: string;
}

export async function runDemo(o: DemoOptions, io: CliIo): Promise<number> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const step = (text: string) => io.out(`\x1b[1m==> ${text}\x1b[0m\n`);
  const done = (text: string) => io.out(`    ${text} (${elapsed()})\n`);
  // The demo starts from nothing each time: no entry, token or certificate of an earlier run.
  rmSync(o.dataDir, { recursive: true, force: true });
  const children = new Children(join(o.dataDir, 'logs'));
  const env = { ...io.env, ALDER_NODE_SOCKET: join(o.dataDir, 'node.sock') };
  let isStopping = false;
  const stopAll = async (why: string) => {
    if (isStopping) return;
    isStopping = true;
    io.out(
      `\n==> stopping (${why}): the load, the workloads (each drains), the node proxy, the control plane\n`,
    );
    const byName = (names: string[]) => children.all.filter((c) => names.some((n) => c.name.startsWith(n)));
    await children.stop(5_000, byName(['loadgen']));
    await children.stop(
      10_000,
      children.all.filter((c) => !['node-proxy', 'control-plane'].includes(c.name)),
    );
    await children.stop(5_000, byName(['node-proxy']));
    await children.stop(5_000);
    rmSync(env.ALDER_NODE_SOCKET, { force: true });
    io.out(
      `    stopped every process the demo started (${children.all.length}); logs in ${shown(join(o.dataDir, 'logs'))}\n`,
    );
  };
  const signals = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('Ctrl-C'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  try {
    const ready = await Promise.race([startMesh(), signals.then((s) => ({ interrupted: s }))]);
    if ('interrupted' in ready) {
      await stopAll(ready.interrupted);
      return 130;
    }
    if (o.onceMs !== undefined) {
      step(`letting the load run for ${o.onceMs / 1000}s`);
      await Promise.race([new Promise((r) => setTimeout(r, o.onceMs)), signals]);
      const stats = await loadStats(ready.loadgenStats);
      io.out(`    ${describeLoad(stats)}\n`);
      await stopAll('--once');
      return stats !== undefined && stats.successRate >= 0.99 ? 0 : 1;
    }
    const ticker = setInterval(() => {
      void loadStats(ready.loadgenStats).then((s) => {
        if (!isStopping) io.out(`    load: ${describeLoad(s)}\n`);
      });
    }, 10_000);
    const why = await signals;
    clearInterval(ticker);
    await stopAll(why);
    return 0;
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    await stopAll('a step failed');
    return 1;
  }

  async function startMesh() {
    const workloads = demoWorkloads(o.services);
    step('starting the control plane (API, store, CA, config distribution)');
    const cp = await startControlPlane(children, o.dataDir, env);
    done(`API ${cp.url}, mesh port ${cp.meshAddress}`);

    step(`applying the demo's Istio config from ${shown(CONFIG)}`);
    const cliEnv = { ...env, ALDER_SERVER: cp.url, ALDER_DATA_DIR: join(o.dataDir, 'cp') };
    const quiet: string[] = [];
    const applied = await main(['apply', '-f', CONFIG], {
      out: (t) => void io.out(t.replace(/^/gm, '    ')),
      err: (t) => void quiet.push(t),
      readStdin: async () => '',
      env: cliEnv,
      now: () => Date.now(),
    });
    if (applied !== 0) throw new Error(`the demo config was refused: ${quiet.join('')}`);
    done('VirtualServices, DestinationRules, a Sidecar and a PeerAuthentication stored');

    let nodeAdmin = '';
    if (!o.sidecars) {
      step('starting the node proxy: one proxy process for every workload of this host');
      nodeAdmin = await startNodeProxy(children, cp, o.dataDir, env);
      done(`admin ${nodeAdmin}/workloads`);
    }

    const admin = new ApiClient(cp.url, {
      token: readFileSync(join(o.dataDir, 'cp', 'admin-token'), 'utf8').trim(),
    });
    const tokenOf = async (serviceAccount: string) =>
      (
        await admin.request<{ token: string }>('POST', '/alder/v1/tokens', {
          namespace: NAMESPACE,
          serviceAccount,
          ttl: '1h',
        })
      ).token;

    const services = workloads.filter((w) => w.service !== 'loadgen');
    step(
      `starting ${services.length} workloads under \`alder run\` (${o.sidecars ? 'a proxy each' : 'through the node proxy'})`,
    );
    const tokens = new Map<string, string>();
    for (const w of workloads) if (!tokens.has(w.service)) tokens.set(w.service, await tokenOf(w.service));
    const startOne = (w: DemoWorkload) => {
      const child = children.start(w.name, process.execPath, runArgs(w, cp, tokens.get(w.service) ?? '', o), {
        ...env,
        ...w.env,
      });
      return child
        .line((l) => l.includes(' listening on '), READY_MS)
        .then(() => {
          io.out(`    ${w.name.padEnd(14)} ${w.address.padEnd(12)} ready (${elapsed()})\n`);
          return child;
        });
    };
    await Promise.all(services.map(startOne));
    const productpage = workloads.find((w) => w.service === 'productpage') as DemoWorkload;
    const url = `http://${productpage.address}:9080`;
    step(
      'waiting for productpage to answer through the mesh (details, reviews, ratings over gRPC, kv over TCP)',
    );
    const page = await firstAnswer(`${url}/api/v1/products/0`, READY_MS);
    done(`reviews answered from ${page.reviewsVersion ?? '?'}`);

    const loadgen = workloads.find((w) => w.service === 'loadgen') as DemoWorkload;
    step(`starting the load generator: ${o.rps} requests a second to productpage`);
    await startOne({ ...loadgen, env: { ...loadgen.env, LOADGEN_RPS: String(o.rps) } });

    io.out(`\n\x1b[1mThe mesh is ready (${elapsed()}).\x1b[0m\n\n`);
    io.out(table(workloads, o.sidecars));
    io.out(`
Open ${url}/productpage in a browser (reload: reviews v1 has no stars, v2 black, v3 red);
sign in as the test user with ${url}/productpage?user=jason (always v2).
The JSON API: curl ${url}/api/v1/products/0

In another terminal:
  export ALDER_SERVER=${cp.url} ALDER_DATA_DIR=${shown(join(o.dataDir, 'cp'))}
  npx alder proxy-status                       # every proxy, and whether it runs the latest config
  npx alder get vs -n ${NAMESPACE}                      # the routes applied from examples/demo
  npx alder get workloadentries -n ${NAMESPACE}         # the workloads alder run registered
  npx alder explain --admin ${adminOf(productpage, nodeAdmin)} -H 'end-user: jason' http://reviews.${NAMESPACE}:9080/reviews/0
                                               # which route productpage's proxy takes for the test user, and why
Logs of every process: ${shown(join(o.dataDir, 'logs'))}/
${o.onceMs === undefined ? 'Press Ctrl-C to stop everything.\n' : ''}`);
    return { loadgenStats: `http://${loadgen.appAddress}:9099/stats` };
  }
}

/** A path as the user would type it: relative to here when it is below here, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function runArgs(w: DemoWorkload, cp: ControlPlane, token: string, o: DemoOptions): string[] {
  return [
    ALDER,
    'run',
    ...['--service', w.service, '-n', NAMESPACE, '--address', w.address, '--app-address', w.appAddress],
    ...(w.version === undefined ? [] : ['--version', w.version]),
    ...(w.port === undefined ? [] : ['--port', w.port]),
    ...['--control-plane', cp.meshAddress, '--token', token, '--drain-grace', '3s'],
    ...(o.sidecars ? ['--sidecar', '--admin', `${w.address}:15000`] : ['--node']),
    ...['--state-dir', join(o.dataDir, 'run', w.name)],
    '--',
    process.execPath,
    join(ROOT, 'src', 'demo', 'apps', `${w.app}.ts`),
  ];
}

/** The node proxy, on admin port 15020 (a free one when that is taken); resolves with its admin URL. */
async function startNodeProxy(
  children: Children,
  cp: ControlPlane,
  dataDir: string,
  env: Record<string, string | undefined>,
): Promise<string> {
  for (const admin of ['127.0.0.1:15020', '127.0.0.1:0']) {
    const node = children.start(
      'node-proxy',
      process.execPath,
      [
        ...[ALDER, 'node', '--control-plane', cp.meshAddress, '--socket', String(env.ALDER_NODE_SOCKET)],
        ...['--state-dir', join(dataDir, 'node'), '--admin', admin],
      ],
      env,
    );
    try {
      const line = await node.line((l) => l.includes('"node proxy ready"'), 15_000);
      return (JSON.parse(line) as { admin: string }).admin;
    } catch {
      await children.stop(2_000, [node]);
    }
  }
  throw new Error('the node proxy did not start: see its log');
}

/** Where a workload's admin API is: its own port (a sidecar), or its path on the node proxy's. */
function adminOf(w: DemoWorkload, nodeAdmin: string): string {
  const entry = `${w.service}${w.version === undefined ? '' : `-${w.version}`}-${w.address}`;
  return nodeAdmin === '' ? `${w.address}:15000` : `${nodeAdmin}/workloads/${NAMESPACE}/${entry}`;
}

async function startControlPlane(
  children: Children,
  dataDir: string,
  env: Record<string, string | undefined>,
): Promise<ControlPlane> {
  for (const [api, mesh] of [
    ['127.0.0.1:15080', '127.0.0.1:15012'],
    ['127.0.0.1:0', '127.0.0.1:0'],
  ] as const) {
    const child = children.start(
      'control-plane',
      process.execPath,
      [ALDER, 'control-plane', '--listen', api, '--mesh-listen', mesh, '--data-dir', join(dataDir, 'cp')],
      env,
    );
    try {
      const line = await child.line((l) => l.includes('"control plane ready"'), 30_000);
      const ready = JSON.parse(line) as { url: string; meshUrl: string };
      return { child, url: ready.url, meshAddress: new URL(ready.meshUrl).host };
    } catch {
      // Ports 15080 or 15012 taken: free ones instead.
    }
  }
  throw new Error('the control plane did not start: see its log');
}

async function firstAnswer(url: string, ms: number): Promise<{ reviewsVersion?: string }> {
  const deadline = performance.now() + ms;
  let last = '';
  while (performance.now() < deadline) {
    try {
      const r = await fetch(url, {
        signal: AbortSignal.timeout(5_000),
        headers: { 'x-request-id': randomUUID() },
      });
      const body = await r.text();
      if (r.status === 200) return JSON.parse(body) as { reviewsVersion?: string };
      last = `${r.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`productpage did not answer through the mesh within ${ms / 1000}s; last: ${last}`);
}

interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  successRate: number;
  byVersion: Record<string, number>;
}

async function loadStats(url: string): Promise<LoadStats | undefined> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).json()) as LoadStats;
  } catch {
    return undefined;
  }
}

function describeLoad(s: LoadStats | undefined): string {
  if (s === undefined) return 'no answer from the load generator';
  const versions = Object.entries(s.byVersion ?? {})
    .sort()
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
  return `${s.sent} requests, ${(s.successRate * 100).toFixed(2)}% succeeded (reviews: ${versions || 'none yet'})`;
}

function table(workloads: readonly DemoWorkload[], sidecars: boolean): string {
  const rows = [['WORKLOAD', 'SERVICE', 'VERSION', 'ADDRESS', 'APP LISTENS', 'PROXY', 'IDENTITY']];
  for (const w of workloads) {
    rows.push([
      w.name,
      `${w.service}${w.port === undefined ? '' : `:${w.port.split(':')[1]}`}`,
      w.version ?? '-',
      w.address,
      `${w.appAddress}:${w.listenPort}`,
      sidecars ? 'own' : 'node',
      `spiffe://cluster.local/ns/${NAMESPACE}/sa/${w.service}`,
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
