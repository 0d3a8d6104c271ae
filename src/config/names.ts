// Name and host syntax shared by every kind: Kubernetes object names and labels, DNS names with
// Istio's wildcard rules, IP addresses. Each check reports through a Checker with a message that
// says what was expected.

import { isIP } from 'node:net';
import type { Checker } from './schema.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// One DNS label of a host, case-insensitive as DNS is.
const HOST_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

export function isIpAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** `10.0.0.0/8`, `2001:db8::/32` or a bare address. */
export function isCidrOrIp(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash === -1) return isIP(s) !== 0;
  const family = isIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** A Kubernetes label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export function checkLabelKey(key: string, c: Checker, ...at: (string | number)[]): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
    c.error(`label key prefix must be a lowercase DNS subdomain, got ${JSON.stringify(prefix)}`, ...at);
    return false;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    c.error(
      `label key must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${JSON.stringify(key)}`,
      ...at,
    );
    return false;
  }
  return true;
}

export function checkLabelValue(value: string, c: Checker, ...at: (string | number)[]): boolean {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    c.error(
      `label value must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${JSON.stringify(value)}`,
      ...at,
    );
    return false;
  }
  return true;
}

/**
 * A host as Istio writes it in VirtualService, DestinationRule, ServiceEntry and Sidecar: a DNS name
 * (short or fully qualified), optionally with a leading `*.` wildcard, or `*` alone. Returns a
 * description of what is wrong, or undefined when the host is valid.
 */
export function hostProblem(host: string, options: { allowIp?: boolean } = {}): string | undefined {
  if (host.length === 0) return 'must not be empty';
  if (host === '*') return undefined;
  if (options.allowIp && isIpAddress(host)) return undefined;
  if (host.length > 255) return `must be at most 255 characters long, got ${host.length}`;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.includes('*'))
    return `may only use '*' as its whole first label ("*.example.com"), got ${JSON.stringify(host)}`;
  const labels = name.endsWith('.') ? name.slice(0, -1).split('.') : name.split('.');
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || !HOST_LABEL.test(label)) {
      return `must be a DNS name made of labels of 1-63 letters, digits and '-' (optionally starting with "*."), got ${JSON.stringify(host)}`;
    }
  }
  return undefined;
}

export function checkHost(host: string, c: Checker, options: { allowIp?: boolean } = {}): boolean {
  const problem = hostProblem(host, options);
  if (problem === undefined) return true;
  c.error(problem);
  return false;
}
