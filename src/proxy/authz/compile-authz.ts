// AuthorizationPolicies compiled once per snapshot into tests: each rule twice, as HTTP requests
// see it and as TCP connections do. On a TCP connection Istio's rule for HTTP-only fields applies:
// an ALLOW rule that uses any is dropped (it can allow nothing), while a DENY or AUDIT rule loses
// those fields and keeps the rest (it denies more, never less).

import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzSource } from '../../wire/index.ts';
import { type AuthzAttributes, headerValue, principalParts } from './attributes.ts';
import { type ClaimsCheck, claimCheck, claimPath, requestPrincipalCheck } from './request-auth.ts';
import { anyOf, hostTest, ipTest, pathTest, stringTest, type Test } from './value-match.ts';

type Check = (a: AuthzAttributes) => boolean;

/** One constraint of a rule, named by where it is written (`from[0].source.principals`). */
export interface Constraint {
  path: string;
  check: Check;
}

/** A rule as tests: one of `from` (each a list of constraints, all of which must hold), one of `to`, every `when`. */
export interface RuleTests {
  from: Constraint[][];
  to: Constraint[][];
  when: Constraint[];
}

export interface CompiledRule {
  /** Its index in the policy's `rules`. */
  index: number;
  http: RuleTests;
  /** Undefined: the rule cannot apply to TCP (an ALLOW rule with HTTP-only fields). */
  tcp: RuleTests | undefined;
}

export interface CompiledPolicy {
  name: string;
  action: AuthzPolicy['action'];
  dryRun: boolean;
  rules: CompiledRule[];
}

export interface CompiledAuthz {
  deny: CompiledPolicy[];
  allow: CompiledPolicy[];
  audit: CompiledPolicy[];
  /** Whether any policy applies at all (none: every request passes untested). */
  isEmpty: boolean;
}

export function compileAuthz(policies: readonly AuthzPolicy[] | undefined): CompiledAuthz {
  const compiled = (policies ?? []).map(compilePolicy);
  return {
    deny: compiled.filter((p) => p.action === 'DENY'),
    allow: compiled.filter((p) => p.action === 'ALLOW'),
    audit: compiled.filter((p) => p.action === 'AUDIT'),
    isEmpty: compiled.length === 0,
  };
}

const holds = (cs: readonly Constraint[], a: AuthzAttributes) => cs.every((c) => c.check(a));
const anyHolds = (groups: readonly Constraint[][], a: AuthzAttributes) =>
  groups.length === 0 || groups.some((g) => holds(g, a));

/** Whether the rule matches: one `from` entry (or none given), one `to` entry (or none), every `when`. */
export function ruleMatches(r: RuleTests, a: AuthzAttributes): boolean {
  return anyHolds(r.from, a) && anyHolds(r.to, a) && holds(r.when, a);
}

function compilePolicy(p: AuthzPolicy): CompiledPolicy {
  return {
    name: p.name,
    action: p.action,
    dryRun: p.dryRun,
    rules: p.rules.map((r, index) => {
      const tests = (mode: 'http' | 'tcp'): RuleTests => ({
        from: r.from.map((s, i) => sourceConstraints(s, mode, `from[${i}].source`)),
        to: r.to.map((o, i) => operationConstraints(o, mode, `to[${i}].operation`)),
        when: r.when.flatMap((c, i) =>
          mode === 'tcp' && isHttpKey(c.key) ? [] : conditionConstraints(c, `when[${i}]`),
        ),
      });
      const usesHttp =
        r.from.some(hasHttpField) || r.to.some(hasHttpField) || r.when.some((c) => isHttpKey(c.key));
      return { index, http: tests('http'), tcp: p.action === 'ALLOW' && usesHttp ? undefined : tests('tcp') };
    }),
  };
}

const HTTP_FIELDS = new Set([
  'requestPrincipals',
  'notRequestPrincipals',
  'hosts',
  'notHosts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
]);

function hasHttpField(x: AuthzSource | AuthzOperation): boolean {
  return Object.entries(x).some(([k, v]) => HTTP_FIELDS.has(k) && (v?.length ?? 0) > 0);
}

function isHttpKey(key: string): boolean {
  return key.startsWith('request.');
}

/** `values` of field `path` as a constraint on what `read` takes from the attributes; `not…` negates. */
function field(
  out: Constraint[],
  path: string,
  values: readonly string[] | undefined,
  negated: boolean,
  build: (patterns: readonly string[]) => Test,
  read: (a: AuthzAttributes) => string | undefined,
): void {
  if (values === undefined || values.length === 0) return;
  const test = build(values);
  out.push({ path, check: negated ? (a) => !test(read(a)) : (a) => test(read(a)) });
}

/** `values` of field `path` as one check built over all of them (the JWT's attributes); `not…` negates. */
function checkField(
  out: Constraint[],
  path: string,
  values: readonly string[] | undefined,
  negated: boolean,
  build: (patterns: readonly string[]) => ClaimsCheck,
): void {
  if (values === undefined || values.length === 0) return;
  const check = build(values);
  out.push({ path, check: negated ? (a) => !check(a) : check });
}

const strings = (ps: readonly string[]) => anyOf(ps, (p) => stringTest(p));

function sourceConstraints(s: AuthzSource, mode: 'http' | 'tcp', at: string): Constraint[] {
  const out: Constraint[] = [];
  const principal = (a: AuthzAttributes) => a.principal;
  const parts = (a: AuthzAttributes) => principalParts(a.principal);
  field(out, `${at}.principals`, s.principals, false, strings, principal);
  field(out, `${at}.notPrincipals`, s.notPrincipals, true, strings, principal);
  field(out, `${at}.namespaces`, s.namespaces, false, strings, (a) => parts(a).namespace);
  field(out, `${at}.notNamespaces`, s.notNamespaces, true, strings, (a) => parts(a).namespace);
  field(out, `${at}.serviceAccounts`, s.serviceAccounts, false, strings, (a) => parts(a).serviceAccount);
  field(out, `${at}.notServiceAccounts`, s.notServiceAccounts, true, strings, (a) => parts(a).serviceAccount);
  field(out, `${at}.trustDomains`, s.trustDomains, false, strings, (a) => parts(a).trustDomain);
  field(out, `${at}.notTrustDomains`, s.notTrustDomains, true, strings, (a) => parts(a).trustDomain);
  field(out, `${at}.ipBlocks`, s.ipBlocks, false, ipTest, (a) => a.sourceIp);
  field(out, `${at}.notIpBlocks`, s.notIpBlocks, true, ipTest, (a) => a.sourceIp);
  field(out, `${at}.remoteIpBlocks`, s.remoteIpBlocks, false, ipTest, (a) => a.remoteIp);
  field(out, `${at}.notRemoteIpBlocks`, s.notRemoteIpBlocks, true, ipTest, (a) => a.remoteIp);
  if (mode === 'http') {
    checkField(out, `${at}.requestPrincipals`, s.requestPrincipals, false, requestPrincipalCheck);
    checkField(out, `${at}.notRequestPrincipals`, s.notRequestPrincipals, true, requestPrincipalCheck);
  }
  return out;
}

function operationConstraints(o: AuthzOperation, mode: 'http' | 'tcp', at: string): Constraint[] {
  const out: Constraint[] = [];
  const port = (a: AuthzAttributes) => String(a.destinationPort);
  field(out, `${at}.ports`, o.ports, false, strings, port);
  field(out, `${at}.notPorts`, o.notPorts, true, strings, port);
  if (mode === 'http') {
    const hosts = (ps: readonly string[]) => anyOf(ps, hostTest);
    const paths = (ps: readonly string[]) => anyOf(ps, pathTest);
    field(out, `${at}.hosts`, o.hosts, false, hosts, (a) => a.http?.host);
    field(out, `${at}.notHosts`, o.notHosts, true, hosts, (a) => a.http?.host);
    field(out, `${at}.methods`, o.methods, false, strings, (a) => a.http?.method);
    field(out, `${at}.notMethods`, o.notMethods, true, strings, (a) => a.http?.method);
    field(out, `${at}.paths`, o.paths, false, paths, (a) => a.http?.path);
    field(out, `${at}.notPaths`, o.notPaths, true, paths, (a) => a.http?.path);
  }
  return out;
}

/** A `when` condition: the key's value against `values` (any) and not `notValues` (none). */
function conditionConstraints(c: AuthzCondition, at: string): Constraint[] {
  const out: Constraint[] = [];
  const jwt = requestAuthCheck(c.key);
  if (jwt !== undefined) {
    checkField(out, `${at} ${c.key} values`, c.values, false, jwt);
    checkField(out, `${at} ${c.key} notValues`, c.notValues, true, jwt);
    return out;
  }
  const read = attributeReader(c.key);
  const build = c.key.endsWith('.ip') ? ipTest : strings;
  field(out, `${at} ${c.key} values`, c.values, false, build, read);
  field(out, `${at} ${c.key} notValues`, c.notValues, true, build, read);
  return out;
}

/** The check of a request.auth.* key over the verified JWT; undefined for any other key. */
function requestAuthCheck(key: string): ((values: readonly string[]) => ClaimsCheck) | undefined {
  if (key === 'request.auth.principal') return requestPrincipalCheck;
  if (key === 'request.auth.audiences') return (values) => claimCheck(['aud'], values);
  if (key === 'request.auth.presenter') return (values) => claimCheck(['azp'], values);
  if (!key.startsWith('request.auth.claims')) return undefined;
  const path = claimPath(key);
  // Refused at admission; a malformed key read from an older store matches no claim.
  return path === undefined ? () => () => false : (values) => claimCheck(path, values);
}

function attributeReader(key: string): (a: AuthzAttributes) => string | undefined {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header !== null) {
    const name = header[1] as string;
    return (a) => (a.http === undefined ? undefined : headerValue(a.http.headers, name));
  }
  switch (key) {
    case 'source.ip':
      return (a) => a.sourceIp;
    case 'remote.ip':
      return (a) => a.remoteIp;
    case 'destination.ip':
      return (a) => a.destinationIp;
    case 'destination.port':
      return (a) => String(a.destinationPort);
    case 'connection.sni':
      return (a) => a.sni;
    case 'source.principal':
      return (a) => a.principal;
    case 'source.namespace':
      return (a) => principalParts(a.principal).namespace;
    case 'source.serviceAccount':
      return (a) => principalParts(a.principal).serviceAccount;
    case 'source.trustDomain':
      return (a) => principalParts(a.principal).trustDomain;
    default:
      // experimental.* keys: the attribute is absent.
      return () => undefined;
  }
}
