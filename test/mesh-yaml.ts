// YAML for the mesh objects the black-box tests apply (Service, WorkloadEntry, Sidecar,
// PeerAuthentication, MeshConfig) and the client → web mesh most proxy tests run. Pure text: the
// processes that read it are started by mesh-fixture.ts, which re-exports all of this.

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
  return workloadEntryWith({ name, namespace, address, labels: { app: name }, serviceAccount });
}

/**
 * A WorkloadEntry with exactly `labels`, in namespace `shop` and running as service account `name`
 * unless given; `locality` is `region/zone/subzone`, `ports` maps service port names (and `hbone`) to
 * the workload's own ports.
 */
export function workloadEntryWith(o: {
  name: string;
  address: string;
  labels: Record<string, string>;
  namespace?: string;
  serviceAccount?: string;
  locality?: string | undefined;
  ports?: Record<string, number>;
}): string {
  const locality = o.locality === undefined ? '' : `, locality: ${o.locality}`;
  const ports = o.ports === undefined ? '' : `, ports: ${flow(o.ports)}`;
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${o.name}, namespace: ${o.namespace ?? 'shop'}}
spec: {address: ${o.address}, labels: ${JSON.stringify(o.labels)}, serviceAccount: ${o.serviceAccount ?? o.name}${locality}${ports}}
`;
}

/** `{number, protocol, name}`; the name is the protocol in lower case unless given. */
export function sidecarPort(number: number, protocol: string, name = protocol.toLowerCase()): SidecarPort {
  return { number, protocol, name };
}

/** A Sidecar inbound port: to `defaultEndpoint`, or to the app listening on 127.0.0.1:`appPort`. */
export type SidecarIngressPort = { port: SidecarPort } & ({ defaultEndpoint: string } | { appPort: number });

/** A Sidecar with inbound ports, for the workloads labelled `selector` (`app: name` unless given). */
export function sidecarIngress(
  name: string,
  namespace: string,
  ingress: SidecarIngressPort[],
  selector: Record<string, string> = { app: name },
): string {
  const ports = ingress.map((i) => {
    const endpoint = 'appPort' in i ? `127.0.0.1:${i.appPort}` : i.defaultEndpoint;
    return `  - port: ${flow({ ...i.port })}\n    defaultEndpoint: ${endpoint}\n`;
  });
  return `${sidecarHead(name, namespace, selector)}  ingress:\n${ports.join('')}`;
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
  return `${sidecarHead(name, namespace, { app: name })}  egress:\n${ports.join('')}`;
}

function sidecarHead(name: string, namespace: string, selector: Record<string, string>): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  workloadSelector: {labels: ${JSON.stringify(selector)}}
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

/**
 * The two workloads most proxy tests run, in namespace `shop`: `client` at address `client`, and
 * `web` at `web` (Service web, HTTP port 8080 named `http`) whose app listens on 127.0.0.1:`appPort`.
 * With `egress`, the client also has a local port 8080 on its own address that reaches every host.
 */
export function clientWebYaml(o: { client: string; web: string; appPort: number; egress?: boolean }): string {
  const http = sidecarPort(8080, 'HTTP');
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    workloadEntry('web', 'shop', o.web),
    workloadEntry('client', 'shop', o.client),
    sidecarIngress('web', 'shop', [{ port: http, appPort: o.appPort }]),
    ...(o.egress === true
      ? [sidecarEgress('client', 'shop', [{ port: http, bind: o.client, hosts: ['./*'] }])]
      : []),
  );
}
