// Name syntax shared by every kind: Kubernetes object names and labels, IP addresses and CIDR
// blocks. Istio's host rules live in kinds/istio-hosts.ts.

import { isIP } from 'node:net';
import type { Checker } from './schema.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

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
