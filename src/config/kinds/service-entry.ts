// Istio's ServiceEntry (networking.istio.io): a service the mesh does not discover by itself (an
// external API, VMs), with its hosts, addresses, ports and endpoints. Ports Istio's
// ValidateServiceEntry and the CRD's rules tying resolution to endpoints, addresses and wildcards.

import type { KindInfo } from '../kind-info.ts';
import { isCidrOrIp } from '../names.ts';
import { arr, type Checker, describe, type Infer, int, type ObjectOf, obj, record, str } from '../schema.ts';
import { exportTo } from './common.ts';
import { fqdnProblem, isIstioLabel, wildcardDomainProblem } from './istio-hosts.ts';
import { isHttpProtocol, isTcpProtocol, isTlsProtocol, PROTOCOLS, parseProtocol } from './protocol.ts';
import { checkWorkloadEntry, ipOrHostProblem, workloadEntryFields } from './workload-entry.ts';

const serviceHost = str({
  refine: (v, c) => {
    if (v === '*') {
      c.error('must not be "*": a ServiceEntry names its hosts (use "*.example.com" for a domain)');
      return;
    }
    const problem = wildcardDomainProblem(v);
    if (problem !== undefined) c.error(problem);
  },
});

const address = str({
  maxLength: 64,
  refine: (v, c) => {
    if (!isCidrOrIp(v))
      c.error(`must be an IP address or a CIDR block such as "10.0.0.0/16", got ${describe(v)}`);
  },
});

const servicePort = obj(
  {
    number: int({ min: 1, max: 65535 }),
    protocol: str({
      maxLength: 256,
      refine: (v, c) => {
        if (v !== '' && parseProtocol(v) === undefined) {
          c.error(`must be one of ${PROTOCOLS.join(', ')} (any case), got ${describe(v)}`);
        }
      },
    }),
    name: str({
      maxLength: 256,
      refine: (v, c) => {
        if (!isIstioLabel(v)) {
          c.error(
            `must be a DNS-1123 label (at most 63 letters, digits and '-', starting and ending with a letter or digit), got ${describe(v)}`,
          );
        }
      },
    }),
    targetPort: int({ min: 1, max: 65535 }),
  },
  { required: ['number', 'name'], name: 'a service port' },
);

const ports = arr(servicePort, {
  maxItems: 256,
  refine: (list, c) => {
    const names = new Set<string>();
    const numbers = new Set<number>();
    list.forEach((p, i) => {
      if (names.has(p.name)) c.error(`duplicate port name ${JSON.stringify(p.name)}`, i, 'name');
      if (numbers.has(p.number)) c.error(`duplicate port number ${p.number}`, i, 'number');
      names.add(p.name);
      numbers.add(p.number);
    });
  },
});

/** An endpoint: a WorkloadEntry spec, with the CRD's own checks; the rest depends on resolution. */
const endpoint = obj(workloadEntryFields, {
  name: 'an endpoint',
  refine: (v, c) => {
    if (v.address === undefined && v.network === undefined)
      c.error('is required (or set network)', 'address');
    if ((v.address ?? '').startsWith('unix://') && v.ports !== undefined) {
      c.error('must not be set for a unix socket address', 'ports');
    }
  },
});

/** Istio's older WorkloadSelector (`labels`, not `matchLabels`), which ServiceEntry keeps. */
const selector = obj(
  {
    labels: record(
      str({
        maxLength: 63,
        refine: (v, c) => {
          if (v.includes('*')) c.error('must not contain "*": selectors match exact values');
        },
      }),
      {
        key: {
          expected: 'a label key',
          check(k: unknown, c: Checker) {
            const key = String(k);
            if (key === '') c.error('label key must not be empty');
            else if (key.includes('*')) c.error('label key must not contain "*": selectors match exact keys');
            else return true;
            return false;
          },
        },
      },
    ),
  },
  {
    name: 'a workload selector',
    refine: (v, c) => {
      if (Object.keys(v.labels ?? {}).length === 0) {
        c.warn('has no labels: it selects every workload in the namespace');
      }
    },
  },
);

const fields = {
  hosts: arr(serviceHost, { minItems: 1, maxItems: 256 }),
  addresses: arr(address, { maxItems: 256 }),
  ports,
  location: str({ enum: ['MESH_EXTERNAL', 'MESH_INTERNAL'] }),
  resolution: str({ enum: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] }),
  endpoints: arr(endpoint, { maxItems: 4096 }),
  workloadSelector: selector,
  exportTo: exportTo({ allowNone: true }),
  subjectAltNames: arr(str()),
};

export const serviceEntrySpec = obj(fields, {
  required: ['hosts'],
  name: 'a ServiceEntry spec',
  oneOf: [['workloadSelector', 'endpoints']],
  refine: (v, c) => checkServiceEntry(v, c),
});

export type ServiceEntrySpec = Infer<typeof serviceEntrySpec>;
export type ServicePort = Infer<typeof servicePort>;
export type { WorkloadEntrySpec } from './workload-entry.ts';

type Spec = ObjectOf<typeof fields, 'hosts'>;

function checkServiceEntry(v: Spec, c: Checker): void {
  const resolution = v.resolution ?? 'NONE';
  const addresses = v.addresses ?? [];
  const portList = v.ports ?? [];
  v.hosts.forEach((h, i) => {
    if (resolution !== 'DYNAMIC_DNS' && h.includes('*') && h !== '*' && !h.startsWith('*.')) {
      c.warn(`partial wildcard ${JSON.stringify(h)} is not supported: use "*.example.com"`, 'hosts', i);
    }
  });
  if (resolution !== 'NONE' && resolution !== 'STATIC') {
    addresses.forEach((a, i) => {
      if (a.includes('/'))
        c.error(
          `must be an IP address when resolution is ${resolution}: CIDR blocks need NONE or STATIC`,
          'addresses',
          i,
        );
    });
  }
  if (addresses.length === 0 && resolution === 'NONE') {
    // Istio allocates addresses automatically, but never for resolution NONE.
    portList.forEach((p, i) => {
      if (p.protocol === undefined || p.protocol === '' || p.protocol === 'TCP') {
        c.warn(
          `serves TCP (protocol ${protocolText(p.protocol)}) but the ServiceEntry has no addresses: set addresses to route it by IP`,
          'ports',
          i,
        );
      }
    });
  }
  checkResolution(v, resolution, c);
  if (resolution !== 'NONE' && v.hosts.length > 1) {
    const i = portList.findIndex((p) => {
      const protocol = parseProtocol(p.protocol ?? '');
      return !isHttpProtocol(protocol) && !isTlsProtocol(protocol);
    });
    if (i !== -1) {
      c.error(
        `must be HTTP or TLS based when a ServiceEntry has several hosts and resolution ${resolution} (only those carry the host name), got ${protocolText(portList[i]?.protocol)}`,
        'ports',
        i,
        'protocol',
      );
    }
  }
}

function checkResolution(v: Spec, resolution: string, c: Checker): void {
  const endpoints = v.endpoints ?? [];
  const servicePorts = new Set((v.ports ?? []).map((p) => p.name));
  switch (resolution) {
    case 'NONE':
      if (endpoints.length > 0)
        c.error('must be empty when resolution is NONE: use STATIC or DNS', 'endpoints');
      if (v.workloadSelector !== undefined) {
        c.warn('has no effect when resolution is NONE: use STATIC', 'workloadSelector');
      }
      return;
    case 'STATIC':
      endpoints.forEach((e, i) => {
        c.at('endpoints', () => c.at(i, () => checkWorkloadEntry(e, c, { servicePorts, allowFqdn: false })));
      });
      return;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      checkDnsResolution(v, resolution, servicePorts, c);
      return;
    case 'DYNAMIC_DNS':
      checkDynamicDns(v, c);
      return;
  }
}

function checkDnsResolution(
  v: Spec,
  resolution: string,
  servicePorts: ReadonlySet<string>,
  c: Checker,
): void {
  const endpoints = v.endpoints ?? [];
  if (endpoints.length === 0) {
    const i = v.hosts.findIndex((h) => fqdnProblem(h) !== undefined);
    if (i !== -1) {
      c.error(
        `must be a host name without wildcards when resolution is ${resolution} and there are no endpoints: it is the name to resolve`,
        'hosts',
        i,
      );
    }
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    c.error(
      `must have at most one endpoint when resolution is DNS_ROUND_ROBIN, got ${endpoints.length}`,
      'endpoints',
    );
  }
  endpoints.forEach((e, i) => {
    const addr = e.address ?? '';
    const problem = ipOrHostProblem(addr);
    if (problem !== undefined) {
      c.error(`${problem} (resolution ${resolution})`, 'endpoints', i, 'address');
    }
    for (const name of Object.keys(e.ports ?? {})) {
      if (!servicePorts.has(name)) {
        c.error(
          `must name a port of the ServiceEntry (${[...servicePorts].join(', ') || 'none defined'})`,
          'endpoints',
          i,
          'ports',
          name,
        );
      }
    }
  });
  if ((v.addresses ?? []).length > 0 && v.hosts.length > 1) {
    if ((v.ports ?? []).some((p) => isTcpProtocol(parseProtocol(p.protocol ?? '')))) {
      c.warn(
        'should have one host when addresses are set and a port serves TCP: TCP traffic cannot tell hosts apart',
        'hosts',
      );
    }
  }
}

function checkDynamicDns(v: Spec, c: Checker): void {
  v.hosts.forEach((h, i) => {
    if (!h.startsWith('*'))
      c.error(
        `must be a wildcard host such as "*.example.com" when resolution is DYNAMIC_DNS, got ${describe(h)}`,
        'hosts',
        i,
      );
  });
  if ((v.addresses ?? []).length > 0) {
    c.error('must be empty when resolution is DYNAMIC_DNS: routes come from the hosts', 'addresses');
  }
  if ((v.endpoints ?? []).length > 0) {
    c.error(
      'must be empty when resolution is DYNAMIC_DNS: the destination is resolved from the request host',
      'endpoints',
    );
  }
  (v.ports ?? []).forEach((p, i) => {
    const protocol = parseProtocol(p.protocol ?? '');
    if (protocol !== 'HTTP' && protocol !== 'TLS' && protocol !== 'GRPC' && protocol !== 'HTTP2') {
      c.error(
        `must be HTTP, TLS, GRPC or HTTP2 when resolution is DYNAMIC_DNS, got ${protocolText(p.protocol)}`,
        'ports',
        i,
        'protocol',
      );
    }
  });
}

function protocolText(protocol: string | undefined): string {
  return protocol === undefined || protocol === '' ? 'unset' : describe(protocol);
}

export const serviceEntry: KindInfo<ServiceEntrySpec> = {
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'serviceentries',
  shortNames: ['se'],
  namespaced: true,
  spec: serviceEntrySpec,
  specRequired: true,
  printerColumns: [
    { header: 'Hosts', value: (r) => JSON.stringify(r.spec?.hosts ?? []) },
    { header: 'Location', value: (r) => r.spec?.location ?? '' },
    { header: 'Resolution', value: (r) => r.spec?.resolution ?? '' },
  ],
};
