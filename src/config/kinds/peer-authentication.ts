// Istio's PeerAuthentication (security.istio.io): whether a workload's inbound traffic must, may or
// must not use mutual TLS, for the whole workload and per port. Ports the CRD schema (its port and
// selector CEL rules) and Istio's ValidatePeerAuthentication.

import type { KindInfo } from '../kind-info.ts';
import { type Infer, obj, record, str } from '../schema.ts';
import { workloadSelector } from './common.ts';
import { warnEmptySelector } from './policy-target-reference.ts';

/** UNSET inherits from the parent: the namespace's policy, then the mesh's, then PERMISSIVE. */
export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
export type PeerMtlsMode = (typeof MTLS_MODES)[number];

const mutualTls = obj({ mode: str({ enum: MTLS_MODES }) }, { name: 'mutual TLS settings' });

const portKey = str({
  refine: (v, c) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
      c.error(`must be a port number between 1 and 65535, got ${JSON.stringify(v)}`);
    }
  },
});

export const peerAuthenticationSpec = obj(
  {
    selector: workloadSelector,
    mtls: mutualTls,
    portLevelMtls: record(mutualTls, {
      key: portKey,
      refine: (v, c) => {
        if (Object.keys(v).length === 0) c.error('must name at least one port: leave it out otherwise');
      },
    }),
  },
  {
    name: 'a PeerAuthentication spec',
    refine: (v, c) => {
      warnEmptySelector(v.selector, c);
      if (v.portLevelMtls !== undefined && Object.keys(v.selector?.matchLabels ?? {}).length === 0) {
        c.error(
          'requires a selector with matchLabels: a mesh- or namespace-wide policy cannot set port-level mTLS, since ports belong to workloads',
          'portLevelMtls',
        );
      }
    },
  },
);

export type PeerAuthenticationSpec = Infer<typeof peerAuthenticationSpec>;
export type PeerMutualTls = Infer<typeof mutualTls>;

export const peerAuthentication: KindInfo<PeerAuthenticationSpec> = {
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'peerauthentications',
  shortNames: ['pa'],
  namespaced: true,
  spec: peerAuthenticationSpec,
  specRequired: false,
  printerColumns: [{ header: 'Mode', value: (r) => r.spec?.mtls?.mode ?? '' }],
};
