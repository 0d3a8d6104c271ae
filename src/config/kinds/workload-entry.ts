// Istio's WorkloadEntry (networking.istio.io): a workload outside Kubernetes (a VM, a process, a
// unix socket) with its address, ports and labels. The same spec is a ServiceEntry endpoint, so this
// module also exports the fields and the check that ServiceEntry reuses (Istio's validateWorkloadEntry).

import type { KindInfo } from '../kind-info.ts';
import { isIpAddress } from '../names.ts';
import { type Checker, describe, int, type ObjectOf, obj, record, str } from '../schema.ts';
import { fqdnProblem } from './istio-hosts.ts';
import { sourceLabels } from './istio-labels.ts';

const UNIX_PREFIX = 'unix://';
const PORT_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

const address = str({
  maxLength: 256,
  refine: (v, c) => {
    if (!v.startsWith(UNIX_PREFIX)) return;
    const path = v.slice(UNIX_PREFIX.length);
    if (path === '') c.error('must name a socket after "unix://"');
    else if (path.startsWith('@')) return;
    else if (!path.startsWith('/')) {
      c.error(
        `must be an absolute unix socket path ("unix:///var/run/app.sock") or an abstract one ("unix://@app"), got ${describe(v)}`,
      );
    } else if (path.endsWith('/')) c.error(`must name a socket file, not a directory, got ${describe(v)}`);
  },
});

/** Port name → port number. Names are DNS-1123 labels shorter than 63 characters, as Istio's CRD has it. */
const ports = record(int({ min: 1, max: 65535 }), {
  key: {
    expected: 'a port name',
    check(k: unknown, c: Checker) {
      const name = String(k);
      if (name.length < 63 && PORT_NAME.test(name)) return true;
      c.error(
        `must be a port name: at most 62 letters, digits and '-', starting and ending with a letter or digit, got ${describe(name)}`,
      );
      return false;
    },
  },
});

/** The fields of a WorkloadEntry spec, shared with ServiceEntry's endpoints. */
export const workloadEntryFields = {
  address,
  ports,
  labels: sourceLabels,
  network: str({ maxLength: 2048 }),
  locality: str({ maxLength: 2048 }),
  weight: int({ min: 0, max: 4294967295 }),
  serviceAccount: str({ maxLength: 253 }),
};

export type WorkloadEntrySpec = ObjectOf<typeof workloadEntryFields, never>;

export interface WorkloadEntryCheckOptions {
  /** Port names the owning ServiceEntry defines; undefined for a standalone WorkloadEntry. */
  servicePorts?: ReadonlySet<string>;
  /** Whether the address may be a host name (DNS resolution) or must be an IP (STATIC). */
  allowFqdn: boolean;
}

/** Istio's validateWorkloadEntry, reporting at the fields of `we` under the current path. */
export function checkWorkloadEntry(
  we: WorkloadEntrySpec,
  c: Checker,
  options: WorkloadEntryCheckOptions,
): void {
  const addr = we.address ?? '';
  if (addr === '') {
    if ((we.network ?? '') === '') {
      c.error('is required (or set network, for a workload reached through its network gateway)', 'address');
      return;
    }
    c.warn(
      `is not set: the workload is reached through the gateway of network ${JSON.stringify(we.network)}`,
      'address',
    );
  }
  const isUnix = addr.startsWith(UNIX_PREFIX);
  if (isUnix) {
    if (Object.keys(we.ports ?? {}).length > 0) c.error('must not be set for a unix socket address', 'ports');
  } else if (addr !== '' && !isIpAddress(addr)) {
    if (!options.allowFqdn) {
      c.error(`must be an IP address when resolution is STATIC, got ${describe(addr)}`, 'address');
    } else {
      const problem = ipOrHostProblem(addr);
      if (problem !== undefined) c.error(problem, 'address');
    }
  }
  const servicePorts = options.servicePorts;
  if (servicePorts !== undefined) {
    for (const name of Object.keys(we.ports ?? {})) {
      if (!servicePorts.has(name)) {
        c.error(
          `must name a port of the ServiceEntry (${[...servicePorts].join(', ') || 'none defined'})`,
          'ports',
          name,
        );
      }
    }
    if (isUnix && servicePorts.size !== 1) {
      c.error(
        `a unix socket endpoint needs exactly one ServiceEntry port, got ${servicePorts.size}`,
        'address',
      );
    }
  }
}

/** Why `addr` is neither an IP address nor a host name (Istio's ValidateFQDN), or undefined. */
export function ipOrHostProblem(addr: string): string | undefined {
  if (isIpAddress(addr)) return undefined;
  const problem = fqdnProblem(addr);
  if (problem === undefined) return undefined;
  return problem.startsWith('must be ')
    ? `must be an IP address or ${problem.slice('must be '.length)}`
    : `must be an IP address or a host name: ${problem}`;
}

export const workloadEntrySpec = obj(workloadEntryFields, {
  name: 'a WorkloadEntry spec',
  refine: (v, c) => checkWorkloadEntry(v, c, { allowFqdn: true }),
});

export const workloadEntry: KindInfo<WorkloadEntrySpec> = {
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadentries',
  shortNames: ['we'],
  namespaced: true,
  spec: workloadEntrySpec,
  specRequired: true,
  printerColumns: [{ header: 'Address', value: (r) => r.spec?.address ?? '' }],
};
