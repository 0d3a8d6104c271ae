// Istio's WorkloadGroup (networking.istio.io): the template of the WorkloadEntries that workloads
// outside Kubernetes register when their proxy joins, the metadata each entry gets, and the probe
// their proxies run. Ports the CRD and Istio's ValidateWorkloadGroup; src/compile/auto-register.ts
// makes an entry from a group.

import type { KindInfo } from '../kind-info.ts';
import { checkLabelKey } from '../names.ts';
import { type Infer, obj, record, str } from '../schema.ts';
import { labelMap } from './common.ts';
import { readinessProbe } from './readiness-probe.ts';
import { workloadEntryFields } from './workload-entry.ts';

const MAX_ENTRIES = 256;

const groupMetadata = obj(
  {
    labels: labelMap,
    annotations: record(str(), {
      key: { expected: 'an annotation key', check: (k: unknown, c) => checkLabelKey(String(k), c) },
    }),
  },
  {
    name: 'the metadata of every WorkloadEntry of the group',
    refine: (v, c) => {
      for (const field of ['labels', 'annotations'] as const) {
        const n = Object.keys(v[field] ?? {}).length;
        if (n > MAX_ENTRIES) c.error(`must have at most ${MAX_ENTRIES} entries, got ${n}`, field);
      }
    },
  },
);

/** A WorkloadEntry spec whose address each workload brings when it joins. */
const template = obj(workloadEntryFields, {
  name: 'a WorkloadEntry template',
  refine: (v, c) => {
    if (v.address !== undefined) {
      c.error(
        'must not be set in a WorkloadGroup template: each WorkloadEntry takes the address its proxy joins from',
        'address',
      );
    }
  },
});

export const workloadGroupSpec = obj(
  { metadata: groupMetadata, template, probe: readinessProbe },
  { required: ['template'], name: 'a WorkloadGroup spec' },
);

export type WorkloadGroupSpec = Infer<typeof workloadGroupSpec>;

export const workloadGroup: KindInfo<WorkloadGroupSpec> = {
  kind: 'WorkloadGroup',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadgroups',
  shortNames: ['wg'],
  namespaced: true,
  spec: workloadGroupSpec,
  specRequired: true,
  printerColumns: [
    { header: 'Service-Account', value: (r) => r.spec?.template.serviceAccount ?? 'default' },
    { header: 'Probe', value: (r) => probeSummary(r.spec) },
  ],
};

function probeSummary(spec: WorkloadGroupSpec | undefined): string {
  const p = spec?.probe;
  if (p === undefined) return '<none>';
  if (p.httpGet !== undefined) return `httpGet :${p.httpGet.port}${p.httpGet.path ?? '/'}`;
  if (p.tcpSocket !== undefined) return `tcpSocket :${p.tcpSocket.port}`;
  if (p.grpc !== undefined) return `grpc :${p.grpc.port}`;
  return 'exec';
}
