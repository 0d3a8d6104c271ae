// Sidecar (networking.istio.io): what a workload's proxy listens on (ingress), which services it may
// reach (egress), its outbound traffic policy and inbound connection pool, checked as Istio's
// ValidateSidecar does. Listener-level rules live in sidecar-listeners.ts.

import type { KindInfo } from '../kind-info.ts';
import { arr, type Checker, type Infer, obj, record, str } from '../schema.ts';
import { destinationPort, subsetName } from './destination.ts';
import { fqdnProblem } from './istio-hosts.ts';
import { egressListener, ingressListener, UNIX_PREFIX } from './sidecar-listeners.ts';
import { connectionPool } from './traffic-policy.ts';

/** Istio's v1alpha3 WorkloadSelector (`labels`), as ValidateAlphaWorkloadSelector and the CRD check it. */
const workloadSelector = obj(
  {
    labels: record(
      str({
        maxLength: 63,
        refine: (v, c) => {
          if (v.includes('*')) c.error('wildcards are not allowed in selectors');
        },
      }),
      {
        key: {
          expected: 'a label key',
          check(k, c) {
            const key = String(k);
            if (key === '') c.error('label key must not be empty');
            else if (key.includes('*')) c.error('wildcards are not allowed in selectors');
            else return true;
            return false;
          },
        },
      },
    ),
  },
  {
    name: 'a workload selector (labels)',
    refine: (v, c) => {
      const n = Object.keys(v.labels ?? {}).length;
      if (n === 0)
        c.warn('selects by no label, so it applies to every workload in the namespace: omit it to say so');
      if (n > 256) c.error(`must have at most 256 labels, got ${n}`, 'labels');
    },
  },
);

/** A proxy that traffic to unknown hosts goes through, in ALLOW_ANY mode. */
const egressProxy = obj(
  {
    host: str({
      refine: (v, c) => {
        const problem = fqdnProblem(v);
        if (problem !== undefined) c.error(problem);
      },
    }),
    subset: subsetName,
    port: destinationPort,
  },
  { name: 'an egress proxy destination (host, port)', required: ['host', 'port'] },
);

const outboundTrafficPolicy = obj(
  { mode: str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] }), egressProxy },
  {
    name: 'an outbound traffic policy',
    refine: (v, c) => {
      if (v.egressProxy !== undefined && v.mode !== 'ALLOW_ANY') {
        c.error(
          'needs mode ALLOW_ANY: an egress proxy carries traffic to hosts outside the registry',
          'egressProxy',
        );
      }
    },
  },
);

const sidecarFields = {
  workloadSelector,
  ingress: arr(ingressListener),
  egress: arr(egressListener),
  outboundTrafficPolicy,
  inboundConnectionPool: connectionPool,
};

export const sidecarSpec = obj(sidecarFields, {
  name: 'a Sidecar spec',
  refine: (v, c) => {
    if (!v.egress?.length && !v.ingress?.length && !v.outboundTrafficPolicy && !v.inboundConnectionPool) {
      c.error('must set at least one of egress, ingress, outboundTrafficPolicy, inboundConnectionPool');
      return;
    }
    checkIngressPorts(v, c);
    checkEgressListeners(v, c);
  },
});

export type SidecarSpec = Infer<typeof sidecarSpec>;
export type { IstioEgressListener, IstioIngressListener } from './sidecar-listeners.ts';
export type OutboundTrafficPolicy = NonNullable<SidecarSpec['outboundTrafficPolicy']>;

function checkIngressPorts(v: SidecarSpec, c: Checker): void {
  const ports = new Map<number, number>();
  v.ingress?.forEach((l, i) => {
    const n = l.port.number ?? 0;
    const earlier = ports.get(n);
    if (earlier !== undefined)
      c.error(
        `duplicates the port of ingress[${earlier}]: ports must be unique`,
        'ingress',
        i,
        'port',
        'number',
      );
    else ports.set(n, i);
  });
}

/** One catch-all listener (no port), last; unique ports and sockets; warnings for repeated hosts. */
function checkEgressListeners(v: SidecarSpec, c: Checker): void {
  const egress = v.egress ?? [];
  const ports = new Map<number, number>();
  const sockets = new Map<string, number>();
  let catchAll = -1;
  egress.forEach((l, i) => {
    if (l.port === undefined) {
      if (catchAll >= 0) {
        c.error(`is a second listener without port (after egress[${catchAll}]): keep one`, 'egress', i);
      } else if (i !== egress.length - 1) {
        c.error('has no port, so it catches all traffic, and must be the last listener', 'egress', i);
      }
      if (catchAll < 0) catchAll = i;
    } else if ((l.port.number ?? 0) === 0) {
      const bind = l.bind ?? '';
      const earlier = sockets.get(bind);
      if (earlier !== undefined && bind.startsWith(UNIX_PREFIX)) {
        c.error(`duplicates the socket of egress[${earlier}]: sockets must be unique`, 'egress', i, 'bind');
      } else sockets.set(bind, i);
    } else {
      const earlier = ports.get(l.port.number as number);
      if (earlier !== undefined) {
        c.error(
          `duplicates the port of egress[${earlier}]: ports must be unique`,
          'egress',
          i,
          'port',
          'number',
        );
      } else ports.set(l.port.number as number, i);
    }
    warnRepeatedHosts(l.hosts, c, i);
  });
}

/** Istio warns (without refusing) when an egress listener lists a host twice or after `ns/*`. */
function warnRepeatedHosts(hosts: readonly string[], c: Checker, listener: number): void {
  const byNamespace = new Map<string, Set<string>>();
  hosts.forEach((h, k) => {
    const slash = h.indexOf('/');
    if (slash === -1 || h.startsWith('~')) return;
    const ns = h.slice(0, slash) === '.' ? c.context.namespace : h.slice(0, slash);
    const svc = h.slice(slash + 1);
    const seen = byNamespace.get(ns) ?? new Set<string>();
    byNamespace.set(ns, seen);
    const repeated = svc === '*' ? seen.size > 0 : seen.has(svc) || seen.has('*');
    if (repeated) c.warn('repeats a host this listener already selects', 'egress', listener, 'hosts', k);
    seen.add(svc);
  });
  if (byNamespace.get('*')?.has('*') && byNamespace.size !== 1) {
    c.warn('"*/*" selects every host, so the other hosts add nothing', 'egress', listener, 'hosts');
  }
}

export const sidecar: KindInfo<SidecarSpec> = {
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'sidecars',
  shortNames: [],
  namespaced: true,
  spec: sidecarSpec,
  // The CRD does not require spec, but Istio's validation refuses an empty Sidecar.
  specRequired: true,
};
