// Shared by the black-box proxy tests: a test bed that owns what a test file starts (a temporary
// folder, apps, meshes) and stops all of it in `after`; a mesh of real proxies (config folder, one
// certificate per service account, one proxy per workload); a raw-socket exchange and curl; and,
// re-exported from mesh-yaml.ts, YAML builders for the mesh objects the tests apply. Each test still
// spells out its own mesh.
//
// A test file's setup:
//
//   describe('proxy: …', () => {
//     const bed = new TestBed('http');                // folder alder-http-XXXXXX, made on first use
//     let mesh: Mesh;
//     before(async () => {
//       const appPort = await bed.listen(createServer(handler)); // closed with the bed
//       mesh = await bed.startMesh({
//         yaml: clientWebYaml({ client: CLIENT, web: WEB, appPort, egress: true }),
//         workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
//         wantCleanExit: true,                        // asserted when the bed closes
//       });
//     });
//     after(() => bed.close());                       // apps, then proxies, then the folder
//   });
//
// The API (add to it; what is here keeps its meaning):
//   TestBed                dir, listen(server), addApp(stop), startMesh(options), defer(closer), setUp(fn), close()
//   startMesh              a mesh in any folder → Mesh {configDir, configFile, issue, proxies, proxy(name), stop()}
//   applyConfig            a new config file, and every proxy of the mesh has applied it
//   startClientServerMesh  a client (forward proxy on :15001) and server workloads, each with its own app
//   YAML (mesh-yaml.ts)    yamlDocs, service, workloadEntry, workloadEntryWith, sidecarIngress, sidecarEgress,
//                          sidecarPort, peerAuthentication, meshConfig, clientWebYaml
//   exchanges              rawExchange (bytes in, everything until close out), curl (status, head, body)

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { meshCa } from './certs.ts';
import {
  listenOnLoopback,
  type ProxyLaunch,
  type RunningProxy,
  removeDir,
  startProxy,
  tempDir,
  waitForLog,
} from './harness.ts';
import { type SidecarPort, sidecarIngress, workloadEntryWith, yamlDocs } from './mesh-yaml.ts';

export * from './mesh-yaml.ts';

export type Issue = ReturnType<typeof meshCa>;

export interface MeshWorkload {
  /** The WorkloadEntry name; the proxy runs as `namespace/name`. */
  name: string;
  /** `--outbound-proxy`; `none` unless given. */
  outboundProxy?: string;
  /** The service account in its certificate; `name` unless given (another name makes an imposter). */
  serviceAccount?: string;
  /** How its process starts (environment, a wrapper such as prlimit), after the mesh's `launch`. */
  launch?: ProxyLaunch;
}

export interface MeshOptions {
  dir: string;
  yaml: string;
  workloads: MeshWorkload[];
  namespace?: string;
  folder?: string;
  issue?: Issue;
  /** How every proxy process starts (environment, wrapper); a workload's own `launch` adds to it. */
  launch?: ProxyLaunch;
}

export interface Mesh {
  configDir: string;
  /** The single YAML file the proxies watch. */
  configFile: string;
  issue: Issue;
  /** In the order of `workloads`. */
  proxies: RunningProxy[];
  proxy(name: string): RunningProxy;
  /** Stops every proxy; with `wantCleanExit`, then asserts each exited 0. */
  stop(options?: { wantCleanExit?: boolean }): Promise<void>;
}

/**
 * Writes `yaml` to `dir/<folder>/mesh.yaml`, issues each workload a certificate for its service
 * account (from `issue`, or a new CA in `dir`: pass the first mesh's `issue` to a second mesh in the
 * same `dir`), and starts one proxy per workload, all at once. When one fails to start, the others
 * are stopped before the error is thrown, so no proxy outlives a failed `before`.
 */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const namespace = options.namespace ?? 'shop';
  const folder = options.folder ?? 'config';
  const issue = options.issue ?? meshCa(options.dir);
  const configDir = join(options.dir, folder);
  mkdirSync(configDir);
  const configFile = join(configDir, 'mesh.yaml');
  writeFileSync(configFile, options.yaml);
  // async: a certificate that cannot be issued rejects like a proxy that cannot start.
  const started = await Promise.allSettled(
    options.workloads.map(async (w) => {
      const sa = w.serviceAccount ?? w.name;
      const c = issue(`spiffe://cluster.local/ns/${namespace}/sa/${sa}`, `${folder}-${w.name}`);
      const wrapper = w.launch?.wrapper ?? options.launch?.wrapper;
      return startProxy(
        [
          ...['--config', configDir, '--workload', `${namespace}/${w.name}`],
          ...['--outbound-proxy', w.outboundProxy ?? 'none'],
          ...['--cert', c.cert, '--key', c.key, '--ca', c.ca],
        ],
        { env: { ...options.launch?.env, ...w.launch?.env }, ...(wrapper === undefined ? {} : { wrapper }) },
      );
    }),
  );
  const proxies = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(proxies.map((p) => p.stop()));
    throw failed.reason;
  }
  return {
    configDir,
    configFile,
    issue,
    proxies,
    proxy: (name) => {
      const p = proxies[options.workloads.findIndex((w) => w.name === name)];
      if (p === undefined) throw new Error(`no workload ${name} in this mesh`);
      return p;
    },
    stop: async ({ wantCleanExit = false } = {}) => {
      const codes = await Promise.all(proxies.map((p) => p.stop()));
      if (!wantCleanExit) return;
      proxies.forEach((p, i) => {
        assert.equal(codes[i], 0, `want the proxy to exit 0 on SIGTERM; stderr:\n${p.stderr()}`);
      });
    },
  };
}

/**
 * Rewrites the mesh's config file with `yaml` and resolves when every proxy has applied a snapshot
 * newer than the one it had (each within 10 s, or this fails naming the proxy's last log lines).
 */
export async function applyConfig(mesh: Mesh, yaml: string): Promise<void> {
  const applied = (p: RunningProxy) => p.logs.filter((l) => l.msg === 'snapshot applied').length;
  const before = mesh.proxies.map(applied);
  writeFileSync(mesh.configFile, yaml);
  await Promise.all(mesh.proxies.map((p, i) => waitForLog(p, () => applied(p) > (before[i] ?? 0))));
}

/**
 * What one test file starts and must stop: a temporary folder (made on first use), the apps given to
 * `listen`, and a stack of closers. `close()` stops the apps first (a proxy's process lingers until
 * its idle connections to an app are gone: up to the app's keep-alive timeout, 5 s by default), then
 * runs the closers last in, first out, each even when one before it failed, removes the folder, and
 * throws the first failure. Call it from `after`.
 */
export class TestBed {
  readonly #prefix: string;
  #dir: string | undefined;
  readonly #apps: (() => void)[] = [];
  readonly #closers: (() => unknown)[] = [];

  /** `prefix` names the folder: `alder-<prefix>-XXXXXX` in the system's temporary folder. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  get dir(): string {
    this.#dir ??= tempDir(this.#prefix);
    return this.#dir;
  }

  /** Runs `closer` when the bed closes, before what was deferred earlier. */
  defer(closer: () => unknown): void {
    this.#closers.push(closer);
  }

  /** Stops an app the bed did not start itself (a child process) when the bed closes, with the apps. */
  addApp(stop: () => void): void {
    this.#apps.push(stop);
  }

  /**
   * Listens on 127.0.0.1 port 0 and resolves the port. When the bed closes the server stops
   * listening and every connection still open is destroyed, before anything deferred runs.
   */
  async listen(server: NetServer): Promise<number> {
    const open = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      open.add(s);
      s.once('close', () => open.delete(s));
    });
    const port = await listenOnLoopback(server);
    this.addApp(() => {
      server.close();
      for (const s of open) s.destroy();
    });
    return port;
  }

  /** startMesh in the bed's folder, stopped when the bed closes; `wantCleanExit` is asserted then. */
  async startMesh(options: Omit<MeshOptions, 'dir'> & { wantCleanExit?: boolean }): Promise<Mesh> {
    const { wantCleanExit = false, ...rest } = options;
    const mesh = await startMesh({ ...rest, dir: this.dir });
    this.defer(() => mesh.stop({ wantCleanExit }));
    return mesh;
  }

  /** Runs `setup`; when it fails, closes the bed before rethrowing (a fixture that hands the bed's contents back). */
  async setUp<T>(setup: () => Promise<T>): Promise<T> {
    try {
      return await setup();
    } catch (e) {
      await this.close().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const stop of this.#apps.splice(0)) stop();
    const failures: unknown[] = [];
    for (const closer of this.#closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (e) {
        failures.push(e);
      }
    }
    if (this.#dir !== undefined) removeDir(this.#dir);
    if (failures.length > 0) throw failures[0];
  }
}

/** A server workload of startClientServerMesh, with the port its app listens on. */
export interface ServerWithApp {
  name: string;
  address: string;
  /** Besides `instance: <name>`, which its Sidecar selects. */
  labels: Record<string, string>;
  /** `region/zone/subzone`, for locality-aware load balancing. */
  locality?: string | undefined;
  appPort: number;
}

/**
 * The mesh of the routing tests, in namespace `shop`, in the bed (stopped when it closes): the
 * workload `client` (labelled `app` and `instance` with its name; its forward proxy on
 * `client.address:15001`) and `servers`, each serving every one of `ports` to its own app. `yaml`
 * adds the Services and the routing.
 */
export function startClientServerMesh(
  bed: TestBed,
  o: {
    client: { name: string; address: string; locality?: string | undefined };
    servers: ServerWithApp[];
    ports: SidecarPort[];
    yaml: string;
  },
): Promise<Mesh> {
  const { name, address } = o.client;
  const docs = [
    workloadEntryWith({ name, address, labels: { app: name, instance: name }, locality: o.client.locality }),
  ];
  for (const s of o.servers) {
    docs.push(
      workloadEntryWith({
        name: s.name,
        address: s.address,
        labels: { ...s.labels, instance: s.name },
        locality: s.locality,
      }),
      sidecarIngress(
        s.name,
        'shop',
        o.ports.map((p) => ({ port: p, appPort: s.appPort })),
        { instance: s.name },
      ),
    );
  }
  return bed.startMesh({
    yaml: yamlDocs(...docs, o.yaml),
    workloads: [...o.servers.map((s) => ({ name: s.name })), { name, outboundProxy: `${address}:15001` }],
  });
}

/**
 * Connects to `host:port`, sends `bytes` (then half-closes, unless `halfClose` is false), and collects
 * everything the other side sends until it closes, decoded as latin1. After `timeoutMs` the socket is
 * destroyed and what came so far is returned: a proxy that never closes fails the assertion, never
 * hangs the test. `ended` tells whether the other side closed its half itself.
 */
export async function rawExchange(
  host: string,
  port: number,
  bytes: string | Buffer,
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<{ reply: string; ended: boolean }> {
  const socket = connect({ host, port, allowHalfOpen: true });
  let reply = '';
  let ended = false;
  socket.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  socket.on('end', () => {
    ended = true;
    socket.end();
  });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await once(socket, 'connect');
  if (options.halfClose ?? true) socket.end(bytes);
  else socket.write(bytes);
  const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
  await closed;
  clearTimeout(timer);
  return { reply, ended };
}

/** Runs real curl with `args` (10 s at most) and splits what it printed: status, head and body. */
export async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await promisify(execFile)('curl', ['-sS', '-D', '-', '--max-time', '10', ...args]);
  const split = stdout.indexOf('\r\n\r\n');
  const headers = stdout.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body: stdout.slice(split + 4) };
}
