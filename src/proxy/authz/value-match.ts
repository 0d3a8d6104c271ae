// The value matchers of AuthorizationPolicy, as Istio defines them: a value is an exact string, a
// prefix (`abc*`), a suffix (`*abc`) or `*` (present, whatever its value); paths also take
// templates (`/books/{*}/reviews`, `/files/{**}`); hosts match case-insensitively, with or without a
// port when the value names none; IP values are addresses or CIDR blocks. Each is built once per
// snapshot and tests one attribute.

import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type Test = (value: string | undefined) => boolean;

/** One value of principals, namespaces, methods, header values, SNI …; `undefined` (absent) never matches. */
export function stringTest(pattern: string, options: { ignoreCase?: boolean } = {}): Test {
  if (options.ignoreCase === true) {
    const test = stringTest(pattern.toLowerCase());
    return (v) => v !== undefined && test(v.toLowerCase());
  }
  const p = pattern;
  if (p === '*') return (v) => v !== undefined;
  if (p.length > 1 && p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => v !== undefined && v.startsWith(prefix);
  }
  if (p.length > 1 && p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => v !== undefined && v.endsWith(suffix);
  }
  return (v) => v === p;
}

/** A host value: case-insensitive; without a port it matches the host under any port. */
export function hostTest(pattern: string): Test {
  const test = stringTest(pattern, { ignoreCase: true });
  if (/:\d+$/.test(pattern) || pattern === '*') return test;
  return (v) => v !== undefined && (test(v) || test(withoutPort(v)));
}

function withoutPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 || authority.indexOf(':') !== colon ? authority : authority.slice(0, colon);
}

/** A path value (the path without its query): as stringTest, or a template with `{*}` / `{**}`. */
export function pathTest(pattern: string): Test {
  if (!pattern.includes('{')) return stringTest(pattern);
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment === '{*}') return '[^/]+';
      if (segment === '{**}') return '.+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const re = new RegExp(`^${source}$`);
  return (v) => v !== undefined && re.test(v);
}

/** Addresses and CIDR blocks (IPv4 and IPv6); an IPv4-mapped IPv6 address is tested as IPv4. */
export function ipTest(patterns: readonly string[]): Test {
  const list = new BlockList();
  for (const p of patterns) {
    const [address = '', bits] = p.split('/');
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (v) => {
    if (v === undefined || v === '') return false;
    const address = v.startsWith('::ffff:') && isIPv4(v.slice(7)) ? v.slice(7) : v;
    return list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}

/** Any of `patterns` built by `build`. */
export function anyOf(patterns: readonly string[], build: (p: string) => Test): Test {
  const tests = patterns.map(build);
  if (tests.length === 1) return tests[0] as Test;
  return (v) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as Test)(v)) return true;
    return false;
  };
}
