// Shared by the black-box proxy tests: YAML builders for the few mesh objects they apply, a mesh of
// real proxies (config folder, one certificate per service account, one proxy per workload), a
// raw-socket exchange and curl. Each test still spells out its own mesh; this only removes the typing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { meshCa } from './certs.ts';
import { type RunningProxy, startProxy } from './harness.ts';

/** A Sidecar port: `{number, protocol, name}`, fields left out when not given. */
export interface SidecarPort {
  number: number;
  protocol?: string;
  name?: string;
}

/** `{a: 1, b: x}` in YAML flow style, skipping undefined fields. */
function flow(fields: Record<string, string | number | undefined>): string {
  const set = Object.entries(fields).filter(([, v]) => v !== undefined);
  return `{${set.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

/** Joins YAML documents into one multi-document file. */
export function yamlDocs(...docs: string[]): string {
  return docs.join('---\n');
}

/** A Service selecting `app: selector` (its own name unless given). */
export function service(
  name: string,
  namespace: string,
  ports: { name: string; port: number }[],
  selector = name,
): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${selector}}
  ports: [${ports.map((p) => flow({ name: p.name, port: p.port })).join(', ')}]
`;
}

/** A WorkloadEntry labelled `app: name`, running as service account `serviceAccount` (its name unless given). */
export function workloadEntry(
  name: string,
  namespace: string,
  address: string,
  serviceAccount = name,
): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${name}, namespace: ${namespace}}
spec: {address: ${address}, labels: {app: ${name}}, serviceAccount: ${serviceAccount}}
`;
}

/** A Sidecar for `app: name` whose inbound ports go to `defaultEndpoint`. */
export function sidecarIngress(
  name: string,
  namespace: string,
  ingress: { port: SidecarPort; defaultEndpoint: string }[],
): string {
  const ports = ingress.map(
    (i) => `  - port: ${flow({ ...i.port })}\n    defaultEndpoint: ${i.defaultEndpoint}\n`,
  );
  return `${sidecarHead(name, namespace)}  ingress:\n${ports.join('')}`;
}

/** A Sidecar for `app: name` with local outbound ports bound on `bind`. */
export function sidecarEgress(
  name: string,
  namespace: string,
  egress: { port: SidecarPort; bind: string; hosts: string[] }[],
): string {
  const ports = egress.map(
    (e) => `  - port: ${flow({ ...e.port })}\n    bind: ${e.bind}\n    hosts: ${JSON.stringify(e.hosts)}\n`,
  );
  return `${sidecarHead(name, namespace)}  egress:\n${ports.join('')}`;
}

function sidecarHead(name: string, namespace: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  workloadSelector: {labels: {app: ${name}}}
`;
}

/** A PeerAuthentication for `app: name` with the given mTLS mode. */
export function peerAuthentication(
  name: string,
  namespace: string,
  mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE',
) {
  return `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  mtls: {mode: ${mode}}
`;
}

/** The mesh-wide MeshConfig; `spec` is YAML flow text. */
export function meshConfig(spec: string): string {
  return `apiVersion: mesh.alder.dev/v1alpha1
kind: MeshConfig
metadata: {name: default}
spec: ${spec}
`;
}

export type Issue = ReturnType<typeof meshCa>;

export interface MeshWorkload {
  /** The WorkloadEntry name; the proxy runs as `namespace/name`. */
  name: string;
  /** `--outbound-proxy`; `none` unless given. */
  outboundProxy?: string;
  /** The service account in its certificate; `name` unless given (another name makes an imposter). */
  serviceAccount?: string;
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
 * same `dir`), and starts one proxy per workload, one after another.
 */
export async function startMesh(options: {
  dir: string;
  yaml: string;
  workloads: MeshWorkload[];
  namespace?: string;
  folder?: string;
  issue?: Issue;
}): Promise<Mesh> {
  const namespace = options.namespace ?? 'shop';
  const folder = options.folder ?? 'config';
  const issue = options.issue ?? meshCa(options.dir);
  const configDir = join(options.dir, folder);
  mkdirSync(configDir);
  const configFile = join(configDir, 'mesh.yaml');
  writeFileSync(configFile, options.yaml);
  const proxies: RunningProxy[] = [];
  const byName = new Map<string, RunningProxy>();
  for (const w of options.workloads) {
    const sa = w.serviceAccount ?? w.name;
    const c = issue(`spiffe://cluster.local/ns/${namespace}/sa/${sa}`, `${folder}-${w.name}`);
    const proxy = await startProxy([
      ...['--config', configDir, '--workload', `${namespace}/${w.name}`],
      ...['--outbound-proxy', w.outboundProxy ?? 'none'],
      ...['--cert', c.cert, '--key', c.key, '--ca', c.ca],
    ]);
    proxies.push(proxy);
    byName.set(w.name, proxy);
  }
  return {
    configDir,
    configFile,
    issue,
    proxies,
    proxy: (name) => {
      const p = byName.get(name);
      if (p === undefined) throw new Error(`no workload ${name} in this mesh`);
      return p;
    },
    stop: async ({ wantCleanExit = false } = {}) => {
      const codes: (number | null)[] = [];
      for (const p of proxies) codes.push(await p.stop());
      if (!wantCleanExit) return;
      proxies.forEach((p, i) => {
        assert.equal(codes[i], 0, `want the proxy to exit 0 on SIGTERM; stderr:\n${p.stderr()}`);
      });
    },
  };
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

const run = promisify(execFile);

/** Runs curl with `args` (10 s at most): the status, the response head as text, and the body. */
export async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-D', '-', '--max-time', '10', ...args]);
  const split = stdout.indexOf('\r\n\r\n');
  const headers = stdout.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]);
  return { status, headers, body: stdout.slice(split + 4) };
}
