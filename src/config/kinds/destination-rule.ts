// Istio's DestinationRule (networking.istio.io): the policies applied to traffic for one service
// after routing, and its named subsets. Ports Istio's ValidateDestinationRule; the traffic policy
// itself is in traffic-policy.ts.

import type { KindInfo } from '../kind-info.ts';
import { arr, type Checker, type Infer, obj, str } from '../schema.ts';
import { exportTo, workloadSelector } from './common.ts';
import { isIstioLabel, wildcardDomainProblem } from './istio-hosts.ts';
import { sourceLabels } from './istio-labels.ts';
import { trafficPolicy } from './traffic-policy.ts';

/** A subset name, as Istio's validateSubsetName checks it (a DNS-1123 label; upper case allowed). */
export const subsetName = str({
  refine: (v, c) => {
    if (v === '') c.error('must not be empty');
    else if (!isIstioLabel(v)) {
      c.error(
        `must be a DNS-1123 label (at most 63 letters, digits and '-', starting and ending with a letter or digit), got ${JSON.stringify(v)}`,
      );
    }
  },
});

const subset = obj(
  { name: subsetName, labels: sourceLabels, trafficPolicy },
  { required: ['name'], name: 'a subset' },
);

export const destinationRuleSpec = obj(
  {
    host: str({
      refine: (v, c) => {
        const problem = wildcardDomainProblem(v);
        if (problem !== undefined) c.error(problem);
      },
    }),
    trafficPolicy,
    subsets: arr(subset, {
      refine: (subsets, c) => {
        const seen = new Set<string>();
        subsets.forEach((s, i) => {
          if (seen.has(s.name)) c.error(`duplicate subset name ${JSON.stringify(s.name)}`, i, 'name');
          seen.add(s.name);
        });
      },
    }),
    exportTo: exportTo(),
    workloadSelector,
  },
  {
    required: ['host'],
    name: 'a DestinationRule spec',
    refine: (v, c) => {
      if (v.workloadSelector === undefined) return;
      checkSelectorExport(v.exportTo ?? [], c);
    },
  },
);

export type DestinationRuleSpec = Infer<typeof destinationRuleSpec>;
export type Subset = Infer<typeof subset>;
export type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  TrafficPolicy,
} from './traffic-policy.ts';

/**
 * A DestinationRule with a workload selector applies to this namespace's workloads only, so it may be
 * exported to this namespace alone (Istio's validateExportTo with isDestinationRuleWithSelector).
 */
function checkSelectorExport(entries: readonly string[], c: Checker): void {
  if (entries.length === 0) return;
  const here = c.context.namespace;
  const namespaces = new Set(entries.map((e) => (e === '.' ? here : e)));
  if (!namespaces.has(here)) {
    c.error(
      `must be "." (this namespace) when workloadSelector is set, got ${entries.map((e) => JSON.stringify(e)).join(', ')}`,
      'exportTo',
    );
  } else if (namespaces.size > 1) {
    c.error('must have only "." (this namespace) when workloadSelector is set', 'exportTo');
  }
}

export const destinationRule: KindInfo<DestinationRuleSpec> = {
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'destinationrules',
  shortNames: ['dr'],
  namespaced: true,
  spec: destinationRuleSpec,
  // Istio's CRD leaves spec optional, but its webhook refuses a DestinationRule without a host.
  specRequired: true,
  printerColumns: [{ header: 'Host', value: (r) => r.spec?.host ?? '' }],
};
