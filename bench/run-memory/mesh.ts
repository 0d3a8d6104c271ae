// One measured mesh on this host: a control plane of its own (a fresh data folder), in node mode the
// node proxy, then svc-1 … svc-N under `alder run` (each a details app) and the load client, started
// in parallel batches, each ready once its app prints its "listening on" line. Stops it all in the
// order a host would (workloads, node proxy, control plane), SIGKILL for any process that hangs.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAtEnd, killStrays, type Proc, startProc, stopAll } from './processes.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const DETAILS_APP = join(ROOT, 'src', 'demo', 'apps', 'details.ts');
export const CLIENT_APP = join(import.meta.dirname, 'load-client.ts');
export const NAMESPACE = 'bench';
const CLIENT_PORT = 9090;
/** The load client's workload address; svc-i is at 127.0.120.i. */
const CLIENT_ADDRESS = '127.0.121.1';
const READY_MS = 120_000;

export type Mode = 'sidecar' | 'node';

/** The fields of alder run's `app started` log line the bench reads. */
interface AppStarted {
  pid: number;
  appAddress: string;
}

export interface Mesh {
  controlPlane: Proc;
  /** The node proxy (node mode only). */
  node: Proc | undefined;
  /** alder run of svc-1 … svc-N, in order. */
  services: Proc[];
  /** alder run of the load client. */
  client: Proc;
  /** Where the load client takes commands (its app address, outside the mesh). */
  clientUrl: string;
  /** Every pid that is part of the mesh, apps included: for the quiet check. */
  allPids(): number[];
}

/** Processes started for the mesh, so that `stopMesh` stops them even when starting failed halfway. */
export interface MeshProcs {
  all: Proc[];
  appPids: number[];
}

export function newMeshProcs(): MeshProcs {
  return { all: [], appPids: [] };
}

export async function startMesh(o: {
  mode: Mode;
  services: number;
  dir: string;
  batch: number;
  procs: MeshProcs;
  progress: (text: string) => void;
}): Promise<Mesh> {
  const logDir = join(o.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const socket = join(o.dir, 'node.sock');
  // No node proxy of this host's own is found: alder run talks to ours, or to none.
  const env = { ...process.env, ALDER_NODE_SOCKET: socket };
  const start: Start = (name, args, extraEnv = {}) => {
    const p = startProc({ name, command: process.execPath, args, env: { ...env, ...extraEnv }, logDir });
    o.procs.all.push(p);
    return p;
  };
  const { controlPlane, meshAddress, tokenOf } = await startControlPlane(start, join(o.dir, 'cp'));

  let node: Proc | undefined;
  if (o.mode === 'node') {
    node = start('node-proxy', [
      ...[ALDER, 'node', '--control-plane', meshAddress, '--socket', socket],
      ...['--state-dir', join(o.dir, 'node-state'), '--admin', '127.0.0.1:0'],
    ]);
    await node.line((l) => l.includes('"node proxy ready"'), 30_000);
  }

  const runArgs = (service: string, address: string, token: string, port: string[]) => [
    ...[ALDER, 'run', '--service', service, '-n', NAMESPACE, ...port, '--address', address],
    ...['--control-plane', meshAddress, '--token', token, '--drain-grace', '1s'],
    ...['--state-dir', join(o.dir, 'run', service)],
    ...(o.mode === 'sidecar' ? ['--sidecar', '--admin', `${address}:15000`] : ['--node']),
    '--',
    process.execPath,
  ];
  /** Waits for the app's "listening on" line; resolves with alder run's "app started" line. */
  const ready = async (p: Proc, app: string) => {
    const started = JSON.parse(await p.line((l) => l.includes('"app started"'), READY_MS)) as AppStarted;
    if (Number(started.pid) > 0) {
      o.procs.appPids.push(started.pid);
      killAtEnd(started.pid, app);
    }
    await p.line((l) => l.includes(' listening on '), READY_MS);
    return started;
  };

  const services: Proc[] = [];
  for (let first = 1; first <= o.services; first += o.batch) {
    const last = Math.min(o.services, first + o.batch - 1);
    const batch: Promise<unknown>[] = [];
    for (let i = first; i <= last; i++) {
      const service = `svc-${i}`;
      const token = await tokenOf(service);
      const p = start(service, [
        ...runArgs(service, `127.0.120.${i}`, token, ['--port', 'http:9080']),
        DETAILS_APP,
      ]);
      services.push(p);
      batch.push(ready(p, 'details.ts'));
    }
    await Promise.all(batch);
    o.progress(`${last}/${o.services} services ready`);
  }
  const clientToken = await tokenOf('load-client');
  const client = start(
    'load-client',
    [...runArgs('load-client', CLIENT_ADDRESS, clientToken, []), CLIENT_APP],
    {
      BENCH_CLIENT_PORT: String(CLIENT_PORT),
      BENCH_NAMESPACE: NAMESPACE,
    },
  );
  const clientStarted = await ready(client, 'load-client.ts');
  return {
    controlPlane,
    node,
    services,
    client,
    clientUrl: `http://${clientStarted.appAddress}:${CLIENT_PORT}`,
    allPids: () => [...o.procs.all.map((p) => p.pid), ...o.procs.appPids],
  };
}

type Start = (name: string, args: string[], extraEnv?: NodeJS.ProcessEnv) => Proc;

/** A control plane with its data in `dataDir`; `tokenOf` makes a join token for a service account of bench. */
async function startControlPlane(start: Start, dataDir: string) {
  const controlPlane = start('control-plane', [
    ...[ALDER, 'control-plane', '--listen', '127.0.0.1:0', '--mesh-listen', '127.0.0.1:0'],
    ...['--data-dir', dataDir],
  ]);
  const ready = await controlPlane.line((l) => l.includes('"control plane ready"'), 30_000);
  const { url, meshUrl } = JSON.parse(ready) as { url: string; meshUrl: string };
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const tokenOf = async (serviceAccount: string) => {
    const r = await fetch(`${url}/alder/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: NAMESPACE, serviceAccount, ttl: '1h' }),
    });
    if (r.status >= 300) throw new Error(`token for ${serviceAccount}: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
  };
  return { controlPlane, meshAddress: new URL(meshUrl).host, tokenOf };
}

/**
 * Polls the load client until it gets 200 from every service through its proxy (each endpoint
 * enters rotation once its readiness probe passed); fails after `timeoutMs` with what it got last.
 */
export async function waitAllAnswer(clientUrl: string, services: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let last = '';
  while (performance.now() - started < timeoutMs) {
    try {
      const r = await fetch(`${clientUrl}/check?services=${services}`, {
        signal: AbortSignal.timeout(15_000),
      });
      const statuses = (await r.json()) as Record<string, string>;
      const failing = Object.entries(statuses).filter(([, s]) => s !== '200');
      if (r.status === 200 && failing.length === 0) return performance.now() - started;
      last = failing
        .slice(0, 5)
        .map(([svc, s]) => `${svc} ${s}`)
        .join(', ');
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not every service answered the load client within ${timeoutMs / 1000}s; last: ${last}`);
}

/**
 * Workloads first (each drains), then the node proxy, then the control plane; then any app left.
 * Resolves with the names of the processes that did not stop on SIGTERM in time.
 */
export async function stopMesh(procs: MeshProcs): Promise<string[]> {
  const named = (names: string[]) => procs.all.filter((p) => names.includes(p.name));
  const killed = [
    ...(await stopAll(
      procs.all.filter((p) => !['node-proxy', 'control-plane'].includes(p.name)),
      15_000,
    )),
    ...(await stopAll(named(['node-proxy']), 10_000)),
    ...(await stopAll(named(['control-plane']), 10_000)),
  ];
  killStrays();
  return killed;
}
