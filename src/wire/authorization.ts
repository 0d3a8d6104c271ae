// The AuthorizationPolicies in force on a workload, as the control plane sends them: the rules in
// Istio's own shape (its field names and semantics), each policy already chosen for this workload
// by its namespace, selector or target. The proxy compiles them into matchers once per snapshot.

/** The fields of a rule's `from[].source`, each a list of values (any matches). */
export const AUTHZ_SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
] as const;

/** The fields of a rule's `to[].operation`. */
export const AUTHZ_OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

export type AuthzSource = Partial<Record<(typeof AUTHZ_SOURCE_FIELDS)[number], string[]>>;
export type AuthzOperation = Partial<Record<(typeof AUTHZ_OPERATION_FIELDS)[number], string[]>>;

export interface AuthzCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

/** Matches when one of `from` (or none given), one of `to` (or none given) and every `when` match. */
export interface AuthzRule {
  from: AuthzSource[];
  to: AuthzOperation[];
  when: AuthzCondition[];
}

export interface AuthzPolicy {
  /** `namespace/name` of the AuthorizationPolicy. */
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** Istio's `istio.io/dry-run: "true"`: evaluated, logged and counted, never enforced. */
  dryRun: boolean;
  /** No rules: an ALLOW policy matches nothing (so it denies all), a DENY or AUDIT one never applies. */
  rules: AuthzRule[];
}
