// Istio's AuthorizationPolicy (security.istio.io): which requests a workload allows, denies, audits
// or hands to an external authorizer. Ports the CRD schema and ValidateAuthorizationPolicy; the
// per-rule checks are in authorization-rule.ts. The `istio.io/dry-run` annotation is not checked here.

import type { KindInfo } from '../kind-info.ts';
import { arr, type Checker, type Infer, obj, str } from '../schema.ts';
import { type AuthorizationRule, authorizationRule } from './authorization-rule.ts';
import { workloadSelector } from './common.ts';
import {
  policyTargetReference,
  policyTargetReferences,
  warnEmptySelector,
} from './policy-target-reference.ts';

export const AUTHORIZATION_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;
export type AuthorizationAction = (typeof AUTHORIZATION_ACTIONS)[number];

// Source fields and condition keys the external authorizer of a CUSTOM policy cannot see.
const CUSTOM_UNSUPPORTED_SOURCE = [
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
] as const;
const CUSTOM_UNSUPPORTED_KEYS = new Set([
  'source.namespace',
  'source.serviceAccount',
  'source.trustDomain',
  'source.principal',
]);

// Source fields a TCP connection can be matched on; every operation field but ports is HTTP-only.
const TCP_SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'ipBlocks',
  'notIpBlocks',
  'namespaces',
  'notNamespaces',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
] as const;

export const authorizationPolicySpec = obj(
  {
    selector: workloadSelector,
    targetRef: policyTargetReference,
    targetRefs: policyTargetReferences,
    rules: arr(authorizationRule, { maxItems: 512 }),
    action: str({ enum: AUTHORIZATION_ACTIONS }),
    provider: obj({ name: str() }, { name: 'an extension provider' }),
  },
  {
    name: 'an AuthorizationPolicy spec',
    oneOf: [['selector', 'targetRef', 'targetRefs']],
    refine: (v, c) => {
      warnEmptySelector(v.selector, c);
      const action = v.action ?? 'ALLOW';
      const rules = v.rules ?? [];
      if (action === 'CUSTOM') checkCustom(v, rules, c);
      else if (v.provider !== undefined) {
        c.error(`must only be set with action CUSTOM, got action ${action}`, 'provider');
      }
      if (action === 'DENY' && rules.length === 0) {
        c.error(
          'must not be empty with action DENY, or the policy never applies: add an empty rule {} to deny every request',
          'rules',
        );
      }
      if (action === 'DENY') rules.forEach((rule, i) => void warnHttpOnlyDeny(rule, i, c));
      warnNotEnforced(v, action, c);
    },
  },
);

export type AuthorizationPolicySpec = Infer<typeof authorizationPolicySpec>;

function checkCustom(v: AuthorizationPolicySpec, rules: AuthorizationRule[], c: Checker): void {
  if (rules.length === 0) {
    c.error(
      'must not be empty with action CUSTOM, or the policy never applies: add an empty rule {} to send every request to the provider',
      'rules',
    );
  }
  if (v.provider === undefined) {
    c.error('is required with action CUSTOM: name the extension provider that decides', 'provider');
  } else if ((v.provider.name ?? '') === '') {
    c.error('must not be empty with action CUSTOM', 'provider', 'name');
  }
  rules.forEach((rule, i) => {
    rule.from?.forEach((from, j) => {
      for (const f of CUSTOM_UNSUPPORTED_SOURCE) {
        if ((from.source[f]?.length ?? 0) > 0) {
          c.error('is not supported with action CUSTOM', 'rules', i, 'from', j, 'source', f);
        }
      }
    });
    rule.when?.forEach((cond, k) => {
      if (CUSTOM_UNSUPPORTED_KEYS.has(cond.key) || cond.key.startsWith('request.auth.')) {
        c.error(`${cond.key} is not supported with action CUSTOM`, 'rules', i, 'when', k, 'key');
      }
    });
  });
}

/** What Alder stores but does not act on, said where the user sees it. */
function warnNotEnforced(v: AuthorizationPolicySpec, action: AuthorizationAction, c: Checker): void {
  if (action === 'CUSTOM') {
    c.warn(
      'is not enforced: Alder has no external authorization providers, so this policy decides nothing',
      'action',
    );
  }
  const targets = [...(v.targetRefs ?? []), ...(v.targetRef === undefined ? [] : [v.targetRef])];
  targets.forEach((t) => {
    if (t.kind !== 'Service') {
      c.warn(
        `a ${t.kind} target is not enforced: only a Service target picks the workloads a policy applies to`,
        t === v.targetRef ? 'targetRef' : 'targetRefs',
      );
    }
  });
}

/** Istio's warning: a DENY rule on HTTP attributes alone also denies every TCP connection in scope. */
function warnHttpOnlyDeny(rule: AuthorizationRule, i: number, c: Checker): void {
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  const tcpInFrom = from.some((f) => TCP_SOURCE_FIELDS.some((k) => (f.source[k]?.length ?? 0) > 0));
  const tcpInTo = to.some(
    (t) => (t.operation.ports?.length ?? 0) > 0 || (t.operation.notPorts?.length ?? 0) > 0,
  );
  if ((from.length > 0 && to.length === 0 && !tcpInFrom) || (to.length > 0 && !tcpInTo)) {
    c.warn(
      'this DENY rule uses only HTTP attributes, so it also denies all TCP traffic in the policy scope: name the ports in to[].operation.ports',
      'rules',
      i,
    );
  }
}

export const authorizationPolicy: KindInfo<AuthorizationPolicySpec> = {
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'authorizationpolicies',
  shortNames: ['ap'],
  namespaced: true,
  spec: authorizationPolicySpec,
  specRequired: false,
  printerColumns: [{ header: 'Action', value: (r) => r.spec?.action ?? '' }],
};
