// Kubernetes core v1 Service: a name, a label selector and ports, which is what the mesh routes to.
// Ports Kubernetes' ValidateService rules for what Alder reads; the other ServiceSpec fields of real
// manifests (type, clusterIP, traffic policies…) are typed, checked for shape, and ignored.

import type { KindInfo } from '../kind-info.ts';
import { isCidrOrIp, isDns1123Label, isDns1123Subdomain, isIpAddress } from '../names.ts';
import { protocolOfPort } from '../protocol.ts';
import type { Resource } from '../resource.ts';
import { arr, bool, type Checker, type Infer, int, intOrString, obj, str } from '../schema.ts';
import { labelMap } from './common.ts';

// IANA_SVC_NAME: 1-15 lowercase letters, digits and '-', with a letter, no '--', no '-' at the ends.
function ianaServiceNameProblem(v: string): string | undefined {
  const ok =
    v.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) && /[a-z]/.test(v) && !v.includes('--');
  return ok
    ? undefined
    : `must be a port number or an IANA service name (at most 15 lowercase letters, digits and '-', with at least one letter), got ${JSON.stringify(v)}`;
}

// Kubernetes' qualified name: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
function qualifiedNameProblem(v: string): string | undefined {
  const slash = v.indexOf('/');
  const prefix = slash === -1 ? undefined : v.slice(0, slash);
  const name = slash === -1 ? v : v.slice(slash + 1);
  const ok =
    (prefix === undefined || isDns1123Subdomain(prefix)) &&
    name.length <= 63 &&
    /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(name);
  return ok
    ? undefined
    : `must be a protocol name such as "http" or "kubernetes.io/h2c", got ${JSON.stringify(v)}`;
}

/** A string checked by a function that says what is wrong with it; `orEmpty` lets "" through. */
function checkedString(problem: (v: string) => string | undefined, options: { orEmpty?: boolean } = {}) {
  return str({
    refine: (v, c) => {
      const p = options.orEmpty && v === '' ? undefined : problem(v);
      if (p !== undefined) c.error(p);
    },
  });
}

export const servicePort = obj(
  {
    name: str({
      refine: (v, c) => {
        if (v !== '' && !isDns1123Label(v)) {
          c.error(`must be a DNS-1123 label (lowercase letters, digits and '-'), got ${JSON.stringify(v)}`);
        }
      },
    }),
    protocol: str({ enum: ['TCP', 'UDP', 'SCTP'] }),
    appProtocol: checkedString(qualifiedNameProblem),
    port: int({ min: 1, max: 65535 }),
    // 0 and "" are Kubernetes' way of saying "the same as port".
    targetPort: intOrString({
      int: { min: 0, max: 65535 },
      str: {
        refine: (v, c) => {
          const problem = v === '' ? undefined : ianaServiceNameProblem(v);
          if (problem !== undefined) c.error(problem);
        },
      },
    }),
    nodePort: int({ min: 0, max: 65535 }),
  },
  { name: 'a service port', required: ['port'] },
);

export type ServicePort = Infer<typeof servicePort>;

const ipAddress = checkedString((v) =>
  isIpAddress(v) ? undefined : `must be an IP address, got ${JSON.stringify(v)}`,
);
const clusterIp = checkedString(
  (v) =>
    v === 'None' || isIpAddress(v)
      ? undefined
      : `must be empty, "None" or an IP address, got ${JSON.stringify(v)}`,
  { orEmpty: true },
);
const cidr = checkedString((v) =>
  v.includes('/') && isCidrOrIp(v)
    ? undefined
    : `must be a CIDR range such as "10.0.0.0/8", got ${JSON.stringify(v)}`,
);

export const serviceSpec = obj(
  {
    selector: labelMap,
    ports: arr(servicePort),
    type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] }),
    clusterIP: clusterIp,
    clusterIPs: arr(clusterIp, { maxItems: 2 }),
    externalName: str(),
    externalIPs: arr(ipAddress),
    sessionAffinity: str({ enum: ['ClientIP', 'None'] }),
    sessionAffinityConfig: obj({
      clientIP: obj({ timeoutSeconds: int({ min: 1, max: 86400 }) }),
    }),
    loadBalancerIP: str(),
    loadBalancerSourceRanges: arr(cidr),
    loadBalancerClass: str(),
    allocateLoadBalancerNodePorts: bool(),
    externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    internalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    healthCheckNodePort: int({ min: 0, max: 65535 }),
    publishNotReadyAddresses: bool(),
    ipFamilies: arr(str({ enum: ['IPv4', 'IPv6'] }), { maxItems: 2 }),
    ipFamilyPolicy: str({ enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] }),
    trafficDistribution: str({ enum: ['PreferClose', 'PreferSameZone', 'PreferSameNode'] }),
  },
  {
    name: 'a Service spec',
    refine: (v, c) => {
      const type = v.type ?? 'ClusterIP';
      const ports = v.ports ?? [];
      if (ports.length === 0 && v.clusterIP !== 'None' && type !== 'ExternalName') {
        c.error(
          'must list at least one port (only headless and ExternalName services may have none)',
          'ports',
        );
      }
      if (type === 'ExternalName') {
        const name = (v.externalName ?? '').replace(/\.$/, '');
        if (name === '') c.error('is required when type is ExternalName', 'externalName');
        else if (!isDns1123Subdomain(name)) {
          c.error(`must be a lowercase DNS name, got ${JSON.stringify(v.externalName)}`, 'externalName');
        }
      }
      if (v.sessionAffinityConfig !== undefined && v.sessionAffinity !== 'ClientIP') {
        c.error('must only be set when sessionAffinity is ClientIP', 'sessionAffinityConfig');
      }
      if (v.loadBalancerSourceRanges !== undefined && type !== 'LoadBalancer') {
        c.error('may only be used when type is LoadBalancer', 'loadBalancerSourceRanges');
      }
      if (v.ipFamilies?.length === 2 && v.ipFamilies[0] === v.ipFamilies[1]) {
        c.error(`duplicate IP family ${v.ipFamilies[1]}`, 'ipFamilies', 1);
      }
      checkPorts(ports, type, c);
    },
  },
);

export type ServiceSpec = Infer<typeof serviceSpec>;

/** Kubernetes' port rules: names unique, required and DNS labels when there are several; port+protocol unique. */
function checkPorts(ports: ServicePort[], type: string, c: Checker): void {
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    const name = p.name ?? '';
    if (ports.length > 1 && name === '') {
      c.error('is required when a service has more than one port', 'ports', i, 'name');
    } else if (name !== '' && names.has(name)) {
      c.error(`duplicate port name ${JSON.stringify(name)}`, 'ports', i, 'name');
    }
    names.add(name);
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (numbers.has(key))
      c.error(`duplicate port ${key}: each port and protocol may appear once`, 'ports', i);
    numbers.add(key);
    if (type === 'ClusterIP' && (p.nodePort ?? 0) !== 0) {
      c.error("may not be used when type is 'ClusterIP'", 'ports', i, 'nodePort');
    }
  });
}

/** The container port a service port sends to: `targetPort`, or the port itself when unset, 0 or "". */
export function targetPortOf(p: ServicePort): number | string {
  return p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort;
}

/** The protocol the mesh speaks on a service port (see protocol.ts). */
export function meshProtocolOf(p: ServicePort) {
  return protocolOfPort({ name: p.name, appProtocol: p.appProtocol, port: p.port, protocol: p.protocol });
}

function formatPorts(r: Resource<ServiceSpec>): string {
  const ports = r.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function formatSelector(r: Resource<ServiceSpec>): string {
  const entries = Object.entries(r.spec?.selector ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

export const service: KindInfo<ServiceSpec> = {
  kind: 'Service',
  group: '',
  versions: ['v1'],
  plural: 'services',
  shortNames: ['svc'],
  namespaced: true,
  spec: serviceSpec,
  specRequired: true,
  nameRule: 'dns1035-label',
  // kubectl's columns, less CLUSTER-IP and EXTERNAL-IP: Alder allocates no service addresses.
  printerColumns: [
    { header: 'Type', value: (r) => r.spec?.type ?? 'ClusterIP' },
    { header: 'Port(s)', value: formatPorts },
    { header: 'Selector', wide: true, value: formatSelector },
  ],
};
