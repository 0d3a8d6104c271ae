// The config the bench writes, as Istio YAML: services in namespace `bench` with endpoints,
// VirtualServices and some DestinationRules, the simulated proxies' own WorkloadEntries (a few label
// sets no Service selects), and the three changes it times.

export const NAMESPACE = 'bench';
/** Label sets of the simulated proxies: one compiled shape each. */
export const SHAPES = 4;

export const serviceAccountOfShape = (shape: number) => `client-${shape}`;

function host(name: string): string {
  return `${name}.${NAMESPACE}.svc.cluster.local`;
}

function serviceYaml(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NAMESPACE}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 8080}, {name: grpc, port: 9090}]
`;
}

function endpointYaml(service: string, name: string, address: string): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${name}, namespace: ${NAMESPACE}}
spec: {address: ${address}, labels: {app: ${service}, version: v1}, serviceAccount: ${service}}
`;
}

/** A VirtualService with a header match, a retry policy and a timeout; `tag` varies its content. */
export function virtualServiceYaml(service: string, tag: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${service}, namespace: ${NAMESPACE}}
spec:
  hosts: [${host(service)}]
  http:
  - match: [{headers: {x-canary: {exact: "1"}}}]
    route: [{destination: {host: ${host(service)}, subset: v1}}]
    headers: {response: {set: {x-bench: ${tag}}}}
  - route: [{destination: {host: ${host(service)}, port: {number: 8080}}}]
    timeout: 5s
    retries: {attempts: 2, perTryTimeout: 1s}
`;
}

function destinationRuleYaml(service: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${service}, namespace: ${NAMESPACE}}
spec:
  host: ${host(service)}
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}, connectionPool: {tcp: {maxConnections: 100}}}
  subsets: [{name: v1, labels: {version: v1}}]
`;
}

export const serviceName = (i: number) => `svc${i}`;

/** `services` services with `endpoints` endpoints each, a VirtualService each, a DestinationRule for every fourth. */
export function servicesYaml(services: number, endpoints: number): string[] {
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = serviceName(i);
    docs.push(serviceYaml(name), virtualServiceYaml(name, 'v0'));
    for (let e = 0; e < endpoints; e++) docs.push(endpointYaml(name, `${name}-${e}`, `10.1.${i}.${e + 1}`));
    if (i % 4 === 0) docs.push(destinationRuleYaml(name));
  }
  return docs;
}

export const proxyName = (k: number) => `proxy-${k}`;
export const shapeOf = (k: number) => k % SHAPES;

/** The simulated proxies' WorkloadEntries, in documents of `batch`; labels no Service selects. */
export function proxiesYaml(count: number, batch: number): string[] {
  const out: string[] = [];
  let docs: string[] = [];
  for (let k = 0; k < count; k++) {
    const shape = shapeOf(k);
    docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${proxyName(k)}, namespace: ${NAMESPACE}}
spec: {address: 10.${100 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}, labels: {role: client, group: g${shape}}, serviceAccount: ${serviceAccountOfShape(shape)}}
`);
    if (docs.length === batch) {
      out.push(docs.join('---\n'));
      docs = [];
    }
  }
  if (docs.length > 0) out.push(docs.join('---\n'));
  return out;
}

/** The changes timed, each a function of the repeat so every repeat changes something. */
export const CHANGES = {
  route: (rep: number) => virtualServiceYaml(serviceName(0), `edit-${rep}`),
  endpoint: (rep: number) =>
    endpointYaml(serviceName(1), `${serviceName(1)}-extra-${rep}`, `10.1.1.${100 + rep}`),
  service: (rep: number) => {
    const name = `new${rep}`;
    return [
      serviceYaml(name),
      endpointYaml(name, `${name}-0`, `10.2.${rep & 255}.1`),
      virtualServiceYaml(name, 'v0'),
    ].join('---\n');
  },
} as const;
export type ChangeName = keyof typeof CHANGES;
export const CHANGE_TITLES: Record<ChangeName, string> = {
  route: 'route edit (1 VirtualService)',
  endpoint: 'endpoint added (1 WorkloadEntry)',
  service: 'new service (Service + WorkloadEntry + VirtualService)',
};
