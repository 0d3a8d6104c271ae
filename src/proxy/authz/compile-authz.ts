// AuthorizationPolicies compiled once per snapshot into tests: each rule twice, as HTTP requests
// see it and as TCP connections do. On a TCP connection Istio's rule for HTTP-only fields applies:
// an ALLOW rule that uses any is dropped (it can allow nothing), while a DENY or AUDIT rule loses
// those fields and keeps the rest (it denies more, never less).

import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzSource } from '../../wire/index.ts';
import { type AuthzAttributes, headerValue, principalParts } from './attributes.ts';
import { anyOf, hostTest, ipTest, pathTest, stringTest, type Test } from './value-match.ts';

type Check = (a: AuthzAttributes) => boolean;

export interface CompiledRule {
  /** Its index in the policy's `rules`. */
  index: number;
  http: Check;
  /** Undefined: the rule cannot apply to TCP (an ALLOW rule with HTTP-only fields). */
  tcp: Check | undefined;
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

function compilePolicy(p: AuthzPolicy): CompiledPolicy {
  return {
    name: p.name,
    action: p.action,
    dryRun: p.dryRun,
    rules: p.rules.map((r, index) => {
      const http = all([
        any(r.from.map((s) => sourceCheck(s, 'http'))),
        any(r.to.map((o) => operationCheck(o, 'http'))),
        ...r.when.map((c) => conditionCheck(c, 'http')),
      ]);
      const usesHttp =
        r.from.some(hasHttpField) || r.to.some(hasHttpField) || r.when.some((c) => isHttpKey(c.key));
      const tcp =
        p.action === 'ALLOW' && usesHttp
          ? undefined
          : all([
              any(r.from.map((s) => sourceCheck(s, 'tcp'))),
              any(r.to.map((o) => operationCheck(o, 'tcp'))),
              ...r.when.filter((c) => !isHttpKey(c.key)).map((c) => conditionCheck(c, 'tcp')),
            ]);
      return { index, http, tcp };
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

const ALWAYS: Check = () => true;

function all(checks: Check[]): Check {
  const real = checks.filter((c) => c !== ALWAYS);
  if (real.length === 0) return ALWAYS;
  if (real.length === 1) return real[0] as Check;
  return (a) => real.every((c) => c(a));
}

/** Any of the entries (an empty list: no constraint). */
function any(checks: Check[]): Check {
  if (checks.length === 0 || checks.includes(ALWAYS)) return ALWAYS;
  if (checks.length === 1) return checks[0] as Check;
  return (a) => checks.some((c) => c(a));
}

/** `field` → a test of its values against what `read` takes from the attributes; `not…` negates. */
function field(
  values: readonly string[] | undefined,
  negated: boolean,
  build: (patterns: readonly string[]) => Test,
  read: (a: AuthzAttributes) => string | undefined,
): Check {
  if (values === undefined || values.length === 0) return ALWAYS;
  const test = build(values);
  return negated ? (a) => !test(read(a)) : (a) => test(read(a));
}

const strings = (ps: readonly string[]) => anyOf(ps, (p) => stringTest(p));
const requestPrincipal = (_a: AuthzAttributes): string | undefined => undefined;

function sourceCheck(s: AuthzSource, mode: 'http' | 'tcp'): Check {
  const principal = (a: AuthzAttributes) => a.principal;
  const parts = (a: AuthzAttributes) => principalParts(a.principal);
  const checks = [
    field(s.principals, false, strings, principal),
    field(s.notPrincipals, true, strings, principal),
    field(s.namespaces, false, strings, (a) => parts(a).namespace),
    field(s.notNamespaces, true, strings, (a) => parts(a).namespace),
    field(s.serviceAccounts, false, strings, (a) => parts(a).serviceAccount),
    field(s.notServiceAccounts, true, strings, (a) => parts(a).serviceAccount),
    field(s.trustDomains, false, strings, (a) => parts(a).trustDomain),
    field(s.notTrustDomains, true, strings, (a) => parts(a).trustDomain),
    field(s.ipBlocks, false, ipTest, (a) => a.sourceIp),
    field(s.notIpBlocks, true, ipTest, (a) => a.sourceIp),
    field(s.remoteIpBlocks, false, ipTest, (a) => a.remoteIp),
    field(s.notRemoteIpBlocks, true, ipTest, (a) => a.remoteIp),
  ];
  if (mode === 'http') {
    checks.push(
      field(s.requestPrincipals, false, strings, requestPrincipal),
      field(s.notRequestPrincipals, true, strings, requestPrincipal),
    );
  }
  return all(checks);
}

function operationCheck(o: AuthzOperation, mode: 'http' | 'tcp'): Check {
  const port = (a: AuthzAttributes) => String(a.destinationPort);
  const checks = [field(o.ports, false, strings, port), field(o.notPorts, true, strings, port)];
  if (mode === 'http') {
    const hosts = (ps: readonly string[]) => anyOf(ps, hostTest);
    const paths = (ps: readonly string[]) => anyOf(ps, pathTest);
    checks.push(
      field(o.hosts, false, hosts, (a) => a.http?.host),
      field(o.notHosts, true, hosts, (a) => a.http?.host),
      field(o.methods, false, strings, (a) => a.http?.method),
      field(o.notMethods, true, strings, (a) => a.http?.method),
      field(o.paths, false, paths, (a) => a.http?.path),
      field(o.notPaths, true, paths, (a) => a.http?.path),
    );
  }
  return all(checks);
}

/** A `when` condition: the key's value against `values` (any) and not `notValues` (none). */
function conditionCheck(c: AuthzCondition, _mode: 'http' | 'tcp'): Check {
  const read = attributeReader(c.key);
  const build = c.key.endsWith('.ip') ? ipTest : strings;
  return all([field(c.values, false, build, read), field(c.notValues, true, build, read)]);
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
      // request.auth.* (no RequestAuthentication is enforced yet: no request is authenticated) and
      // experimental.* keys: the attribute is absent.
      return () => undefined;
  }
}
