// AuthorizationPolicies compiled once per snapshot into tests: each rule twice, as HTTP requests
// see it and as TCP connections do. On a TCP connection Istio's rule for HTTP-only fields applies:
// an ALLOW rule that uses any is dropped (it can allow nothing), while a DENY or AUDIT rule loses
// those fields and keeps the rest (it denies more, never less).

import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzSource } from '../../wire/index.ts';
import { type AuthzAttributes, principalParts, requestHeader } from './attributes.ts';
import { type ClaimsCheck, claimCheck, claimPath, requestPrincipalCheck } from './request-auth.ts';
import { anyOf, hostTest, ipTest, pathTest, stringTest, type Test } from './value-match.ts';

type Check = (a: AuthzAttributes) => boolean;

/** One constraint of a rule, named by where it is written (`from[0].source.principals`). */
export interface Constraint {
  path: string;
  check: Check;
  /** It reads only what a connection fixes (the peer, its address, the port, SNI): true for its every request. */
  perConnection: boolean;
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

/** One rule on the request path: a single test, named by its policy and index. */
export interface RuleEntry {
  policy: string;
  rule: number;
  matches: (a: AuthzAttributes) => boolean;
  /** False when what the connection fixes already rules it out (then it is skipped for its every request). */
  possible: (a: AuthzAttributes) => boolean;
}

/** What the request path runs for one kind of traffic, enforced or dry-run: flat lists of rules. */
export interface DecisionPlan {
  deny: RuleEntry[];
  allow: RuleEntry[];
  /** ALLOW policies in force (even those whose every rule was dropped for TCP), comma-joined; '' when none. */
  allowPolicies: string;
  audit: RuleEntry[];
}

export interface CompiledAuthz {
  /** The policies by action, for explanations. */
  deny: CompiledPolicy[];
  allow: CompiledPolicy[];
  audit: CompiledPolicy[];
  http: { enforced: DecisionPlan; dryRun: DecisionPlan };
  tcp: { enforced: DecisionPlan; dryRun: DecisionPlan };
  /** Whether any policy applies at all (none: every request passes untested). */
  isEmpty: boolean;
}

export function compileAuthz(policies: readonly AuthzPolicy[] | undefined): CompiledAuthz {
  const compiled = (policies ?? []).map(compilePolicy);
  const plan = (mode: 'http' | 'tcp', dryRun: boolean): DecisionPlan => {
    const entries = (action: AuthzPolicy['action']) =>
      compiled
        .filter((p) => p.action === action && p.dryRun === (action === 'AUDIT' ? p.dryRun : dryRun))
        .flatMap((p) =>
          p.rules.flatMap((r) => {
            const tests = mode === 'http' ? r.http : r.tcp;
            return tests === undefined
              ? []
              : [{ policy: p.name, rule: r.index, matches: matcherOf(tests), possible: possibleOf(tests) }];
          }),
        );
    return {
      deny: entries('DENY'),
      allow: entries('ALLOW'),
      allowPolicies: compiled
        .filter((p) => p.action === 'ALLOW' && p.dryRun === dryRun)
        .map((p) => p.name)
        .join(','),
      audit: dryRun ? [] : entries('AUDIT'),
    };
  };
  return {
    deny: compiled.filter((p) => p.action === 'DENY'),
    allow: compiled.filter((p) => p.action === 'ALLOW'),
    audit: compiled.filter((p) => p.action === 'AUDIT'),
    http: { enforced: plan('http', false), dryRun: plan('http', true) },
    tcp: { enforced: plan('tcp', false), dryRun: plan('tcp', true) },
    isEmpty: compiled.length === 0,
  };
}

function holds(cs: readonly Constraint[], a: AuthzAttributes): boolean {
  for (let i = 0; i < cs.length; i++) if (!(cs[i] as Constraint).check(a)) return false;
  return true;
}

function anyHolds(groups: readonly Constraint[][], a: AuthzAttributes): boolean {
  if (groups.length === 0) return true;
  for (let i = 0; i < groups.length; i++) if (holds(groups[i] as Constraint[], a)) return true;
  return false;
}

type Check1 = (a: AuthzAttributes) => boolean;

/** All of `checks` as one test, specialised for the common sizes (no per-call allocation). */
function allOf(checks: Check1[]): Check1 | undefined {
  if (checks.length === 0) return undefined;
  if (checks.length === 1) return checks[0];
  if (checks.length === 2) {
    const [x, y] = checks as [Check1, Check1];
    return (a) => x(a) && y(a);
  }
  return (a) => {
    for (let i = 0; i < checks.length; i++) if (!(checks[i] as Check1)(a)) return false;
    return true;
  };
}

/** Any of `groups` (each all of its constraints); none given: no constraint. */
function anyGroup(groups: readonly Constraint[][]): Check1 | undefined {
  if (groups.length === 0) return undefined;
  const tests = groups.map((g) => allOf(g.map((c) => c.check)) ?? (() => true));
  if (tests.length === 1) return tests[0];
  return (a) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as Check1)(a)) return true;
    return false;
  };
}

/** The rule as one test for the request path (ruleMatches says the same, constraint by constraint). */
export function matcherOf(r: RuleTests): Check1 {
  const parts = [anyGroup(r.from), anyGroup(r.to), allOf(r.when.map((c) => c.check))].filter(
    (x): x is Check1 => x !== undefined,
  );
  return allOf(parts) ?? (() => true);
}

/**
 * A necessary condition of the rule on what a connection fixes: false when each `from` entry (or
 * each `to` entry) has a per-connection constraint that fails, or a per-connection `when` fails.
 */
function possibleOf(r: RuleTests): Check1 {
  const fixed = (cs: readonly Constraint[]) => cs.filter((c) => c.perConnection).map((c) => c.check);
  const group = (groups: readonly Constraint[][]): Check1 | undefined => {
    if (groups.length === 0) return undefined;
    const tests = groups.map((g) => allOf(fixed(g)));
    if (tests.some((t) => t === undefined)) return undefined; // an entry this connection cannot rule out
    return (a) => tests.some((t) => (t as Check1)(a));
  };
  const parts = [group(r.from), group(r.to), allOf(fixed(r.when))].filter(
    (x): x is Check1 => x !== undefined,
  );
  return allOf(parts) ?? (() => true);
}

/** Whether the rule matches: one `from` entry (or none given), one `to` entry (or none), every `when`. */
export function ruleMatches(r: RuleTests, a: AuthzAttributes): boolean {
  return holds(r.when, a) && anyHolds(r.from, a) && anyHolds(r.to, a);
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
  out.push({
    path,
    check: negated ? (a) => !test(read(a)) : (a) => test(read(a)),
    perConnection: isPerConnection(path),
  });
}

const PER_CONNECTION_FIELDS = new Set([
  'principals',
  'notPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
  'ipBlocks',
  'notIpBlocks',
  'ports',
  'notPorts',
]);
const PER_CONNECTION_KEYS = new Set([
  'source.ip',
  'source.principal',
  'source.namespace',
  'source.serviceAccount',
  'source.trustDomain',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);

/** `from[0].source.principals` or `when[1] source.ip values`: whether what it reads is fixed per connection. */
function isPerConnection(path: string): boolean {
  if (path.startsWith('when[')) return PER_CONNECTION_KEYS.has(path.split(' ')[1] ?? '');
  return PER_CONNECTION_FIELDS.has(path.slice(path.lastIndexOf('.') + 1));
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
  out.push({ path, check: negated ? (a) => !check(a) : check, perConnection: false });
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
    const name = (header[1] as string).toLowerCase();
    return (a) => (a.http === undefined ? undefined : requestHeader(a.http, name));
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

/** The plan without the rules a connection rules out: made once per connection and config version. */
export function planForConnection(plan: DecisionPlan, a: AuthzAttributes): DecisionPlan {
  return {
    deny: plan.deny.filter((e) => e.possible(a)),
    allow: plan.allow.filter((e) => e.possible(a)),
    allowPolicies: plan.allowPolicies,
    audit: plan.audit.filter((e) => e.possible(a)),
  };
}
