// Istio's host-name rules, ported from pkg/config/validation/agent and pkg/config/host: wildcard
// domains, FQDNs, `namespace/host` entries of Gateway and Sidecar, gateway references, host overlap
// and unix socket paths. Istio's DNS labels accept upper case; these follow Istio, not Kubernetes.

import { isIpAddress } from '../names.ts';
import type { Checker } from '../schema.ts';

const LABEL = /^[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?$/;
// `*`, or a label with a leading `*` or `*-` (Istio's IsWildcardDNS1123Label).
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)$/;
const LABEL_RULE = "1-63 letters, digits and '-', starting and ending with a letter or digit";

/** Istio's IsDNS1123Label: like Kubernetes' but case-insensitive. */
export function isIstioLabel(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

function preconditionProblem(name: string): string | undefined {
  if (name.length > 255) return `must be at most 255 characters long, got ${name.length}`;
  if (name.length === 0) return 'must not be empty';
  return undefined;
}

/** Istio's ValidateDNS1123Labels: every label valid, the last one not all digits, a final '.' allowed. */
function labelsProblem(whole: string, domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] as string;
  if (/^[+-]?\d+$/.test(tld)) {
    return `must be a DNS name whose top-level domain is not all digits, got ${JSON.stringify(whole)}`;
  }
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] as string;
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isIstioLabel(label)) {
      return `must be a DNS name made of labels of ${LABEL_RULE}, got ${JSON.stringify(whole)} (label ${JSON.stringify(label)})`;
    }
  }
  return undefined;
}

/** Istio's ValidateFQDN (a gateway name without namespace, an egress proxy host). */
export function fqdnProblem(fqdn: string): string | undefined {
  return preconditionProblem(fqdn) ?? labelsProblem(fqdn, fqdn);
}

/**
 * Istio's ValidateWildcardDomain: a DNS name whose first label may be `*` or start with `*`
 * (`*.example.com`, `*-foo.example.com`). Short names are allowed; IP addresses are not.
 */
export function wildcardDomainProblem(domain: string): string | undefined {
  const pre = preconditionProblem(domain);
  if (pre !== undefined) return pre;
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `must be a DNS name (optionally starting with "*."), made of labels of ${LABEL_RULE}, got ${JSON.stringify(domain)} (label ${JSON.stringify(first)})`;
  }
  return dot === -1 ? undefined : labelsProblem(domain, domain.slice(dot + 1));
}

const SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/**
 * Istio's ValidateWildcardDomainForVirtualServiceBoundToGateway: as wildcardDomainProblem, but an SNI
 * host may also be the name Istio generates for AUTO_PASSTHROUGH (`outbound_.80_._.foo.example.com`).
 */
export function gatewayDomainProblem(domain: string, isSni: boolean): string | undefined {
  if (isSni && domain.startsWith('outbound_') && preconditionProblem(domain) === undefined) {
    const parts = domain.split('_');
    if (parts.length < 4) return `must follow the ${SNI_FORMAT} format, got ${JSON.stringify(domain)}`;
    const port = trimDots(parts[1] as string);
    const hostname = trimDots(parts[3] as string);
    if (!/[0-9]/.test(port) || !/[a-zA-Z]/.test(hostname)) {
      return `must follow the ${SNI_FORMAT} format, got ${JSON.stringify(domain)}`;
    }
    return undefined;
  }
  return wildcardDomainProblem(domain);
}

/** Whether `domain` is Istio's generated SNI name, valid only for SNI hosts of gateway-bound routes. */
export function isGeneratedSniName(domain: string): boolean {
  return (
    domain.startsWith('outbound_') &&
    wildcardDomainProblem(domain) !== undefined &&
    gatewayDomainProblem(domain, true) === undefined
  );
}

function trimDots(s: string): string {
  return s.replace(/^\.+|\.+$/g, '');
}

/**
 * Istio's ValidateNamespaceSlashWildcardHostname: `namespace/dnsName` as Gateway servers and Sidecar
 * egress listeners write hosts. Gateways may omit the namespace and may name IP addresses; Sidecars
 * may prefix the namespace with `~` (every namespace but this one).
 */
export function checkNamespacedHost(host: string, c: Checker, isGateway: boolean): void {
  const slash = host.indexOf('/');
  if (slash === -1) {
    if (isGateway) checkHostnamePart(host, host, c, true);
    else c.error(`must be of the form namespace/dnsName, such as "./*" or "istio-system/*", got ${q(host)}`);
    return;
  }
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (ns === '' || name === '') {
    c.error(`must have both a namespace and a dnsName around "/", got ${q(host)}`);
  }
  if (isGateway) {
    if (ns !== '*' && ns !== '.' && !isIstioLabel(ns)) {
      c.error(`namespace must be "*", "." or a namespace name, got ${q(ns)} in ${q(host)}`);
    }
  } else {
    const bare = ns.startsWith('~') ? ns.slice(1) : ns;
    if (bare !== '' && bare !== '*' && bare !== '.' && !isIstioLabel(bare)) {
      c.error(
        `namespace must be "*", "." or a namespace name, optionally after "~", got ${q(ns)} in ${q(host)}`,
      );
    }
  }
  checkHostnamePart(host, name, c, isGateway);
}

/** Istio's validateSidecarOrGatewayHostnamePart. */
function checkHostnamePart(whole: string, name: string, c: Checker, isGateway: boolean): void {
  if (name !== '*' && !name.includes('.')) {
    c.error(`dnsName must be "*" or a fully qualified name (short names are not allowed), got ${q(whole)}`);
    return;
  }
  const problem = wildcardDomainProblem(name);
  if (problem !== undefined && !(isGateway && isIpAddress(name))) {
    c.error(name === whole ? problem : `dnsName ${problem}`);
    return;
  }
  if (name.includes('*') && name !== '*' && !name.startsWith('*.')) {
    c.error(`may use '*' only as a whole first label ("*.example.com"), got ${q(whole)}`);
  }
}

/**
 * Istio's validateGatewayNames: `mesh`, `namespace/name`, or a bare gateway name in this namespace.
 * The legacy `name.namespace` form is accepted with a warning.
 */
export function checkGatewayName(name: string, c: Checker): void {
  const slash = name.indexOf('/');
  if (slash === -1) {
    if (name.includes('.')) {
      const parts = name.split('.');
      c.warn(
        `legacy gateway name format ${q(name)}: prefer <namespace>/<name>, here ${q(`${parts[1]}/${parts[0]}`)}`,
      );
    }
    const problem = fqdnProblem(name);
    if (problem !== undefined) c.error(problem);
    return;
  }
  const ns = name.slice(0, slash);
  const gw = name.slice(slash + 1);
  if (!isIstioLabel(ns)) c.error(`namespace must be a namespace name, got ${q(ns)} in ${q(name)}`);
  if (!isIstioLabel(gw)) c.error(`gateway name must be a DNS-1123 label, got ${q(gw)} in ${q(name)}`);
}

/**
 * Istio's host.Name.Matches: whether two hosts overlap, either covering the other through a wildcard
 * (`*.com` and `foo.com`, `*` and anything).
 */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild)
    return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: whether every name `a` matches is also matched by `b`. */
export function hostIsSubsetOf(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) return a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (aWild) return false;
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** Istio's ValidateUnixAddress, for what follows `unix://`: an absolute file path, or `@name` (abstract). */
export function unixAddressProblem(addr: string): string | undefined {
  if (addr === '') return 'must name a socket after "unix://"';
  if (addr.startsWith('@')) return undefined;
  if (!addr.startsWith('/') || addr.endsWith('/')) {
    return `must be "unix://" followed by an absolute path to a file, or by "@name", got ${q(`unix://${addr}`)}`;
  }
  return undefined;
}
