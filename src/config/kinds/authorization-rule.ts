// One rule of an AuthorizationPolicy: `from` sources, `to` operations and `when` conditions, with the
// checks Istio's ValidateAuthorizationPolicy makes on each. Rules that depend on the policy's action
// (CUSTOM, DENY) are in authorization-policy.ts.

import { arr, type Infer, obj, type Schema, str } from '../schema.ts';
import {
  attributeRule,
  ipBlockProblem,
  pathTemplateProblem,
  portProblem,
  serviceAccountProblem,
  trustDomainProblem,
} from './authorization-values.ts';

function values(problem?: (v: string) => string | undefined, options: { maxItems?: number } = {}) {
  const item = str({
    minLength: 1,
    refine: (v, c) => {
      const p = problem?.(v);
      if (p !== undefined) c.error(p);
    },
  });
  return arr(item, options);
}

const strings = values();
const ipBlocks = values(ipBlockProblem);
const ports = values(portProblem);
const serviceAccounts = values(serviceAccountProblem, { maxItems: 16 });
const trustDomains = values(trustDomainProblem);
const paths = values(pathTemplateProblem);

/** Must not be `[]`: Istio refuses an empty list where leaving the field out says "any". */
function nonEmpty<T>(item: Schema<T>, field: string, maxItems?: number) {
  return arr(item, {
    ...(maxItems === undefined ? {} : { maxItems }),
    refine: (v, c) => {
      if (v.length === 0) c.error(`must not be empty: leave out ${field} to match any request`);
    },
  });
}

const SOURCE_FIELDS = [
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

export const source = obj(
  {
    principals: strings,
    notPrincipals: strings,
    requestPrincipals: strings,
    notRequestPrincipals: strings,
    namespaces: strings,
    notNamespaces: strings,
    ipBlocks,
    notIpBlocks: ipBlocks,
    remoteIpBlocks: ipBlocks,
    notRemoteIpBlocks: ipBlocks,
    serviceAccounts,
    notServiceAccounts: serviceAccounts,
    trustDomains,
    notTrustDomains: trustDomains,
  },
  {
    name: 'a source',
    refine: (v, c) => {
      if (SOURCE_FIELDS.every((f) => (v[f]?.length ?? 0) === 0)) {
        c.error(`must set at least one of ${SOURCE_FIELDS.join(', ')}`);
      }
      const identities = (['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const).filter(
        (f) => v[f] !== undefined,
      );
      if (identities.length === 0) return;
      for (const f of ['serviceAccounts', 'notServiceAccounts'] as const) {
        if (v[f] === undefined) continue;
        c.error(
          `cannot be set with ${identities.join(' or ')} in the same source: put them in separate sources`,
          f,
        );
      }
    },
  },
);

const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

export const operation = obj(
  {
    hosts: strings,
    notHosts: strings,
    ports,
    notPorts: ports,
    methods: strings,
    notMethods: strings,
    paths,
    notPaths: paths,
  },
  {
    name: 'an operation',
    refine: (v, c) => {
      if (OPERATION_FIELDS.every((f) => (v[f]?.length ?? 0) === 0)) {
        c.error(`must set at least one of ${OPERATION_FIELDS.join(', ')}`);
      }
    },
  },
);

/** A `when` condition: a key among Istio's attributes and the values it allows. */
export const condition = obj(
  { key: str({ minLength: 1 }), values: arr(str()), notValues: arr(str()) },
  {
    name: 'a condition',
    required: ['key'],
    refine: (v, c) => {
      const rule = attributeRule(v.key);
      if (rule.problem !== undefined) c.error(rule.problem, 'key');
      if ((v.values?.length ?? 0) === 0 && (v.notValues?.length ?? 0) === 0) {
        c.error(`must set values or notValues for key ${v.key}`);
      }
      if (rule.problem !== undefined) return;
      for (const list of ['values', 'notValues'] as const) {
        const items = v[list] ?? [];
        if (rule.serviceAccounts && items.length > 16) {
          c.error(`must have at most 16 items for key ${v.key}, got ${items.length}`, list);
        }
        items.forEach((item, i) => {
          const problem = item === '' ? 'must not be empty' : rule.value?.(item);
          if (problem !== undefined) c.error(problem, list, i);
        });
      }
    },
  },
);

export const authorizationRule = obj(
  {
    from: nonEmpty(obj({ source }, { name: 'a from entry', required: ['source'] }), 'from', 512),
    to: nonEmpty(obj({ operation }, { name: 'a to entry', required: ['operation'] }), 'to'),
    when: arr(condition),
  },
  { name: 'a rule' },
);

export type AuthorizationRule = Infer<typeof authorizationRule>;
export type AuthorizationSource = Infer<typeof source>;
export type AuthorizationOperation = Infer<typeof operation>;
export type AuthorizationCondition = Infer<typeof condition>;
