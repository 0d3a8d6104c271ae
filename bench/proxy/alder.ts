// The `alder` pair: two `alder proxy` processes, A for workload default/a and B for default/b, each
// given the same Istio-style config folder written here. Skipped, with a notice, until src/proxy
// exists. The one place that knows Alder's proxy interface is marked ALDER PROXY INTERFACE below.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type ManagedProcess, startProcess, waitForPort } from './managed-process.ts';
import type { PairName } from './options.ts';
import { type PairContext, type ProxyPair, runningPair, startBoth } from './pair.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const READY_TIMEOUT_MS = 20_000;

interface AlderPorts {
  /** Each proxy's HBONE tunnel port: both workloads share 127.0.0.1, so each needs its own. */
  tunnelA: number;
  tunnelB: number;
  /** A's plain HTTP/1.1 listener for service b (a Sidecar egress listener bound to 127.0.0.1). */
  outbound: number;
  /** B's mTLS listener (a Sidecar ingress listener; also the WorkloadEntry's port for b). */
  inbound: number;
  backend: number;
}

// ─── ALDER PROXY INTERFACE ────────────────────────────────────────────────────────────────────────
// What the harness expects of `alder proxy` (src/cli/commands/proxy.ts); change here, and only here,
// if the proxy changes.
//   command   node bin/alder.js proxy --config DIR --workload default/a|default/b
//               --cert F --key F --ca F  (PEM files for mTLS between proxies)
//               --admin 127.0.0.1:0      (A and B each pick a free admin port)
//               --outbound-proxy none    (A's entry is its Sidecar egress port, not HTTP_PROXY)
//   config    DIR holds the YAML written by alderConfig(): MeshConfig (STRICT mTLS, no access log),
//             ServiceAccounts a and b, Service b, WorkloadEntries a and b, Sidecars giving A an
//             egress listener on 127.0.0.1:PORT_A (= Service b's port) and B an ingress listener
//             (WorkloadEntry b's port) with defaultEndpoint = the backend, a DestinationRule with
//             ISTIO_MUTUAL and a PeerAuthentication STRICT.
//   ready     one JSON line on stdout whose "msg" (or "message") contains "ready", printed once every
//             listener is bound: {"msg":"proxy ready","admin":…,"listeners":[…]}
//   mTLS      TLS 1.3 between A and B; B requires A's certificate; A checks B's SPIFFE URI SAN
//             (spiffe://cluster.local/ns/default/sa/b) against the CA; A reuses its connections to B.
//   HTTP      requests reach A as origin-form HTTP/1.1 with Host b.default.svc.cluster.local:PORT_A,
//             1 KiB bodies with Content-Length; responses keep Content-Length (or are chunked).
//   processes one process each (threads included; forked children are summed); SIGTERM stops it.

/** The config folder both Alder proxies read: Istio kinds only. */
export function alderConfig(ports: AlderPorts, hbone = true): string {
  return `apiVersion: mesh.alder.dev/v1alpha1
kind: MeshConfig
metadata: { name: default }
spec:
  trustDomain: cluster.local
  mtls: { mode: STRICT }
  accessLogging: { enabled: false }
  hbone: { enabled: ${hbone} }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: a, namespace: default }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: b, namespace: default }
---
apiVersion: v1
kind: Service
metadata: { name: b, namespace: default }
spec:
  selector: { app: b }
  ports: [{ name: http, port: ${ports.outbound} }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: a, namespace: default }
spec: { address: 127.0.0.1, labels: { app: a }, serviceAccount: a, ports: { hbone: ${ports.tunnelA} } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: b, namespace: default }
spec:
  address: 127.0.0.1
  labels: { app: b }
  serviceAccount: b
  ports: { http: ${ports.inbound}, hbone: ${ports.tunnelB} }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: a, namespace: default }
spec:
  workloadSelector: { labels: { app: a } }
  egress:
    - port: { number: ${ports.outbound}, protocol: HTTP, name: http }
      bind: 127.0.0.1
      hosts: [./b.default.svc.cluster.local]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: b, namespace: default }
spec:
  workloadSelector: { labels: { app: b } }
  ingress:
    - port: { number: ${ports.inbound}, protocol: HTTP, name: http }
      bind: 127.0.0.1
      defaultEndpoint: 127.0.0.1:${ports.backend}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: b, namespace: default }
spec:
  host: b.default.svc.cluster.local
  trafficPolicy:
    tls: { mode: ISTIO_MUTUAL }
    connectionPool: { http: { maxRequestsPerConnection: 0 } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: b, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  mtls: { mode: STRICT }
`;
}

/** Starts one `alder proxy` and resolves once it printed its ready line and its port accepts connections. */
async function startAlderProxy(o: {
  ctx: PairContext;
  configDir: string;
  /** `a` (client side) or `b` (server side): names the WorkloadEntry and the certificate. */
  workload: 'a' | 'b';
  port: number;
}): Promise<ManagedProcess> {
  const name = `alder-${o.workload}`;
  const cert = o.ctx.certs[o.workload];
  let onReady = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const p = startProcess({
    name,
    command: process.execPath,
    args: [
      ALDER,
      'proxy',
      ...['--config', o.configDir, '--workload', `default/${o.workload}`],
      ...['--cert', cert.certFile, '--key', cert.keyFile, '--ca', o.ctx.certs.caFile],
      ...['--admin', '127.0.0.1:0', '--outbound-proxy', 'none'],
    ],
    logFile: join(o.ctx.dir, `${name}.log`),
    cpuList: o.ctx.cpuList,
    onStdoutLine: (line) => {
      if (isReadyLine(line)) onReady();
    },
  });
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: no ready line within ${READY_TIMEOUT_MS} ms (see ${p.logFile})`)),
      READY_TIMEOUT_MS,
    );
    void ready.then(() => clearTimeout(timer));
  });
  const exited = p.exited.then((code) => {
    throw new Error(`${name} exited (${code}) before it was ready (see ${p.logFile})`);
  });
  try {
    await Promise.race([ready, timeout, exited]);
    await waitForPort(p, o.port);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

function isReadyLine(line: string): boolean {
  try {
    const v = JSON.parse(line) as unknown;
    if (typeof v !== 'object' || v === null) return false;
    const msg = (v as { msg?: unknown; message?: unknown }).msg ?? (v as { message?: unknown }).message;
    return typeof msg === 'string' && msg.includes('ready');
  } catch {
    return false;
  }
}
// ─── end of ALDER PROXY INTERFACE ─────────────────────────────────────────────────────────────────

/**
 * A realistic route table on top: 1,000 other services, each with a VirtualService (a header match,
 * a retry policy, a timeout), and a VirtualService for b whose 50 uri and header routes the
 * benchmark's requests (`GET /`) pass before its last, catch-all route takes them.
 */
export function routeTableConfig(ports: AlderPorts): string {
  const docs: string[] = [];
  for (let i = 0; i < 1000; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: svc-${i}, namespace: default }
spec:
  selector: { app: svc-${i} }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [svc-${i}]
  http:
    - match: [{ headers: { x-canary: { exact: "yes" } } }]
      route: [{ destination: { host: svc-${i} } }]
      timeout: 2s
    - route: [{ destination: { host: svc-${i} } }]
      retries: { attempts: 2, retryOn: 5xx }`);
  }
  const routes: string[] = [];
  for (let i = 0; i < 50; i++) {
    routes.push(`    - name: api-v${i}
      match:
        - uri: { prefix: /api/v${i}/ }
        - headers: { x-tenant: { exact: tenant-${i} } }
      route: [{ destination: { host: b.default.svc.cluster.local } }]`);
  }
  docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: b, namespace: default }
spec:
  hosts: [b.default.svc.cluster.local]
  http:
${routes.join('\n')}
    - name: default
      route: [{ destination: { host: b.default.svc.cluster.local, port: { number: ${ports.outbound} } } }]
      retries: { attempts: 2, retryOn: "connect-failure,refused-stream" }`);
  return `${docs.join('\n---\n')}\n`;
}

/**
 * 100 AuthorizationPolicies in force on b, as a team that locks a service down writes them: 50 DENY
 * policies (other callers' principals, admin paths, a header) and 49 ALLOW policies for other callers
 * that the benchmark's requests do not match, then the ALLOW policy that lets a's POSTs in. Every
 * request is tested against every DENY rule and the ALLOW rules before the last.
 */
export function authorizationConfig(): string {
  const docs: string[] = [];
  const policy = (name: string, action: string, rules: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  action: ${action}
  rules:
${rules}`;
  for (let i = 0; i < 50; i++) {
    docs.push(
      policy(
        `deny-${i}`,
        'DENY',
        `    - from: [{ source: { principals: ["cluster.local/ns/tenant-${i}/sa/*"] } }]
    - to: [{ operation: { paths: ["/admin-${i}/*"], methods: ["DELETE", "PUT"] } }]
    - when: [{ key: "request.headers[x-block-${i}]", values: ["*"] }]`,
      ),
    );
  }
  for (let i = 0; i < 49; i++) {
    docs.push(
      policy(
        `allow-${i}`,
        'ALLOW',
        `    - from: [{ source: { principals: ["cluster.local/ns/team-${i}/sa/client"], namespaces: ["team-${i}"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/api/v${i}/*"] } }]`,
      ),
    );
  }
  docs.push(
    policy(
      'allow-a',
      'ALLOW',
      `    - from: [{ source: { principals: ["cluster.local/ns/default/sa/a"] } }]
      to: [{ operation: { methods: ["POST", "GET"], paths: ["/*"] } }]`,
    ),
  );
  return `${docs.join('\n---\n')}\n`;
}

/** Writes the config folder and checks it with `alder validate`, which exists before the proxy does. */
export function writeAlderConfig(dir: string, ports: AlderPorts, variant: AlderVariant = {}): string {
  const configDir = join(dir, `${variant.name ?? 'alder'}-config`);
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'mesh.yaml'), alderConfig(ports, variant.hbone ?? true));
  if (variant.routeTable === true) writeFileSync(join(configDir, 'routes.yaml'), routeTableConfig(ports));
  if (variant.authorization === true)
    writeFileSync(join(configDir, 'authorization.yaml'), authorizationConfig());
  try {
    execFileSync(process.execPath, [ALDER, 'validate', '-f', configDir], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    throw new Error(`alder: the generated config in ${configDir} does not validate:\n${out.trim()}`);
  }
  return configDir;
}

/** How an Alder pair differs from the plain one. */
interface AlderVariant {
  name?: PairName;
  /** HBONE tunnels between the proxies (the default), or mTLS to the destination port. */
  hbone?: boolean;
  /** Load routeTableConfig() too. */
  routeTable?: boolean;
  /** Load authorizationConfig() too. */
  authorization?: boolean;
}

function alderSkipReason(): string | undefined {
  if (!existsSync(join(ROOT, 'src', 'proxy'))) {
    return 'src/proxy does not exist yet: the Alder proxy is not built, so the alder pair is skipped';
  }
  // src/proxy may be there half-built; what the harness needs is the `alder proxy` command.
  const help = spawnSync(process.execPath, [ALDER, '--help'], { encoding: 'utf8' }).stdout ?? '';
  return /^\s+proxy\s/m.test(help)
    ? undefined
    : 'src/proxy exists but `alder --help` lists no `proxy` command yet, so the alder pair is skipped';
}

function alderVariantPair(name: PairName, title: string, variant: AlderVariant): ProxyPair {
  return {
    name,
    title,
    skipReason: alderSkipReason,
    async start(ctx) {
      const ports = {
        outbound: await freePort(),
        inbound: await freePort(),
        tunnelA: await freePort(),
        tunnelB: await freePort(),
        backend: ctx.backendPort,
      };
      const configDir = writeAlderConfig(ctx.dir, ports, { ...variant, name });
      const proxies = await startBoth(
        () => startAlderProxy({ ctx, configDir, workload: 'a', port: ports.outbound }),
        () => startAlderProxy({ ctx, configDir, workload: 'b', port: ports.inbound }),
      );
      return runningPair(ports.outbound, proxies, `b.default.svc.cluster.local:${ports.outbound}`);
    },
  };
}

export const alderPair = alderVariantPair('alder', 'Alder', {});
/** Alder with the realistic route table of routeTableConfig(), to show what routing costs. */
export const alderRoutesPair = alderVariantPair('alder-routes', 'Alder + route table', { routeTable: true });
/** Alder with 100 AuthorizationPolicies in force on b, to show what authorization costs. */
export const alderAuthzPair = alderVariantPair('alder-authz', 'Alder + 100 policies', {
  authorization: true,
});
/** Alder with mTLS to the destination port instead of HBONE, to compare the transports end to end. */
export const alderDirectPair = alderVariantPair('alder-direct', 'Alder, direct mTLS', { hbone: false });
