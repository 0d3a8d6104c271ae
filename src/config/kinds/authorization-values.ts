// The value rules of AuthorizationPolicy, ported from Istio's pkg/config/security (ValidateAttribute,
// ValidateIPs, ValidatePorts, CheckServiceAccount, CheckWildcardValues, CheckTrustDomainValues,
// CheckValidPathTemplate). Each check returns what is wrong, or undefined; authorization-rule.ts
// reports it at the field. The proxy's matchers read the same shapes.

import { isIP } from 'node:net';
import { closest } from '../suggest.ts';

/** `10.0.0.1` or `10.0.0.0/16` (Go's netip.ParseAddr / ParsePrefix). */
export function ipBlockProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  if (slash === -1) {
    return isIP(value) !== 0
      ? undefined
      : `must be an IP address or CIDR range, got ${JSON.stringify(value)}`;
  }
  const family = isIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  const ok =
    family !== 0 &&
    !value.includes('%') &&
    /^(0|[1-9]\d{0,2})$/.test(bits) &&
    Number(bits) <= (family === 4 ? 32 : 128);
  return ok ? undefined : `must be a CIDR range such as "10.0.0.0/16", got ${JSON.stringify(value)}`;
}

/** A port as AuthorizationPolicy writes it: a decimal string from 0 to 65535 (Go's ParseUint). */
export function portProblem(value: string): string | undefined {
  if (/^\d+$/.test(value) && Number(value) <= 65535) return undefined;
  return `must be a port number from 0 to 65535 written as a string, got ${JSON.stringify(value)}`;
}

/** `serviceAccount` or `namespace/serviceAccount`, without wildcards, at most 320 characters. */
export function serviceAccountProblem(value: string): string | undefined {
  const format = `must be "serviceAccount" or "namespace/serviceAccount", got ${JSON.stringify(value)}`;
  if (value === '') return 'must not be empty';
  if (value.includes('*')) return `must not contain a wildcard, got ${JSON.stringify(value)}`;
  const parts = value.split('/');
  if (parts.length > 2) return format;
  if (value.length > 320) return `must be at most 320 characters long, got ${value.length}`;
  if (parts.some((p) => p === '')) return format;
  return undefined;
}

/** Exact, `prefix*`, `*suffix` or `*`: at most one wildcard, and only at the start or the end. */
export function wildcardProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  const count = value.split('*').length - 1;
  if (count > 1) return `may contain at most one '*', got ${JSON.stringify(value)}`;
  if (count === 1 && value !== '*' && !value.startsWith('*') && !value.endsWith('*')) {
    return `may only have '*' at its start or end, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

export function trustDomainProblem(value: string): string | undefined {
  const wildcard = wildcardProblem(value);
  if (wildcard !== undefined) return wildcard;
  return value.includes('/') ? `must be a trust domain without '/', got ${JSON.stringify(value)}` : undefined;
}

const MATCH_ONE = '{*}';
const MATCH_ANY = '{**}';
// RFC 3986 pchar, the literal segments a path template may hold besides {*} and {**}.
const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** Istio's CheckValidPathTemplate: `{*}` matches one segment, `{**}` the rest and must be last. */
export function pathTemplateProblem(path: string): string | undefined {
  const hasTemplate = path.includes(MATCH_ONE) || path.includes(MATCH_ANY);
  let seenMatchAny = false;
  for (const glob of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (glob === MATCH_ONE || glob === MATCH_ANY) {
      if (seenMatchAny) return `must have {**} as its last operator, got ${JSON.stringify(path)}`;
      if (glob === MATCH_ANY) seenMatchAny = true;
      continue;
    }
    if (glob.includes('{') || glob.includes('}')) {
      return `may only use '{' and '}' in whole segments {*} and {**}, got ${JSON.stringify(path)}`;
    }
    if (hasTemplate && !VALID_LITERAL.test(glob)) {
      return `has segment ${JSON.stringify(glob)}, which a path template cannot match literally (allowed: letters, digits and -._~%!$&'()+,;:@=)`;
    }
  }
  return undefined;
}

/** What a `when` key allows in its values; `problem` when the key itself is refused. */
export type AttributeRule =
  | { problem: string }
  | { problem?: undefined; value?: (v: string) => string | undefined; serviceAccounts?: boolean };

const PLAIN_KEYS = new Set([
  'source.namespace',
  'source.principal',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'connection.sni',
]);

const KNOWN_KEYS = [
  'request.headers[<name>]',
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.serviceAccount',
  'source.principal',
  'source.trustDomain',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'request.auth.claims[<name>]',
  'destination.ip',
  'destination.port',
  'connection.sni',
  'experimental.envoy.filters.<filter>[<key>]',
];

/** Istio's ValidateAttribute, key by key, in Istio's order (prefix keys are matched as prefixes). */
export function attributeRule(key: string): AttributeRule {
  if (key.startsWith('request.headers')) return mapKeyRule(key);
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip')
    return { value: ipBlockProblem };
  if (PLAIN_KEYS.has(key)) return {};
  if (key === 'source.serviceAccount') return { value: serviceAccountProblem, serviceAccounts: true };
  if (key === 'source.trustDomain') return { value: wildcardProblem };
  if (key.startsWith('request.auth.claims')) return mapKeyRule(key);
  if (key === 'destination.port') return { value: portProblem };
  if (key.startsWith('experimental.envoy.filters.')) return mapKeyRule(key);
  if (key === 'destination.namespace') {
    return { problem: `${key} is replaced by the policy's own metadata.namespace: remove the condition` };
  }
  if (key.startsWith('destination.labels')) {
    return { problem: `${key} is replaced by the workload selector: use spec.selector.matchLabels` };
  }
  if (key === 'destination.name' || key === 'destination.user') {
    return { problem: `${key} was only supported in v1alpha1 and is no longer` };
  }
  const near = closest(key, KNOWN_KEYS);
  const hint = near === undefined ? `use one of ${KNOWN_KEYS.join(', ')}` : `did you mean ${near}?`;
  return { problem: `unknown attribute ${JSON.stringify(key)}: ${hint}` };
}

/** `request.headers[User-Agent]`: a name between brackets at the end. */
function mapKeyRule(key: string): AttributeRule {
  const open = key.indexOf('[');
  if (key.endsWith(']') && open > 0 && open < key.length - 2) return {};
  return {
    problem: `must have the form name[key], such as request.headers[x-user], got ${JSON.stringify(key)}`,
  };
}
