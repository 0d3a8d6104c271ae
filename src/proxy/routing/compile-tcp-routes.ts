// A virtual host's TCP and TLS routes compiled once per snapshot: per match block the port, SNI
// hosts (`*.example.com` covers any deeper name, as Envoy's server_names do) and destination
// subnets, with source conditions decided for this proxy. The L4 listener calls select().

import { BlockList, isIP } from 'node:net';
import { AlderError, ErrorCode } from '../../config/core.ts';
import type {
  ProxyIdentity,
  TcpMatch,
  TcpRoute,
  VirtualHost,
  WeightedDestination,
} from '../../wire/index.ts';
import { formatOrigin } from './compile-virtual-host.ts';
import { sourceFailure } from './source-match.ts';
import { compileWeights, type WeightedPicker } from './weighted-picker.ts';

/** What TCP routing reads of a connection. */
export interface TcpConnectionInfo {
  /** The destination port the client dialled. */
  port: number;
  /** The TLS ClientHello's server name, if any. */
  sni: string | undefined;
  /** The address the client dialled (IPv4, IPv6, or IPv4-mapped IPv6). */
  destinationAddress: string;
}

interface TcpCondition {
  test(c: TcpConnectionInfo): boolean;
  whyNot(c: TcpConnectionInfo): string;
}

export interface CompiledTcpRoute {
  readonly index: number;
  readonly route: TcpRoute;
  readonly origin: string;
  readonly picker: WeightedPicker<WeightedDestination>;
}

export interface TcpSelection {
  readonly route: CompiledTcpRoute;
  /** -1 when the route has no match blocks. */
  readonly matchIndex: number;
}

export interface CompiledTcpRoutes {
  select(conn: TcpConnectionInfo): TcpSelection | undefined;
  /** Per route and block: undefined when it matches, else why not (same conditions as select). */
  explain(conn: TcpConnectionInfo): { route: CompiledTcpRoute; reasons: (string | undefined)[] }[];
}

interface TcpCandidate {
  conditions: TcpCondition[];
  selection: TcpSelection;
}

/** Compiles `vh.tcpRoutes` for `self`; throws one AlderError listing every subnet it cannot parse. */
export function compileTcpRoutes(vh: VirtualHost, self: ProxyIdentity): CompiledTcpRoutes {
  const problems: string[] = [];
  const compiled = vh.tcpRoutes.map((route, index) => {
    const r: CompiledTcpRoute = {
      index,
      route,
      origin: formatOrigin(route.origin),
      picker: compileWeights(route.destinations),
    };
    const blocks = route.matches.map((m, k) => {
      const where = `tcpRoutes[${index}] ${JSON.stringify(route.name)} matches[${k}]`;
      return {
        k,
        source: sourceFailure(m, self),
        conditions: conditionsOf(m, (p) => problems.push(`${where}: ${p}`)),
      };
    });
    return { r, blocks };
  });
  if (problems.length > 0) {
    throw new AlderError(ErrorCode.SnapshotInvalid, `virtual host ${vh.name}: ${problems.join('; ')}`, {
      details: { virtualHost: vh.name, problems },
    });
  }
  const candidates: TcpCandidate[] = [];
  for (const { r, blocks } of compiled) {
    if (blocks.length === 0) candidates.push({ conditions: [], selection: { route: r, matchIndex: -1 } });
    for (const b of blocks) {
      if (b.source === undefined)
        candidates.push({ conditions: b.conditions, selection: { route: r, matchIndex: b.k } });
    }
  }
  return {
    select(conn) {
      for (const c of candidates) if (c.conditions.every((x) => x.test(conn))) return c.selection;
      return undefined;
    },
    explain(conn) {
      return compiled.map(({ r, blocks }) => ({
        route: r,
        reasons: blocks.map((b) => b.source ?? b.conditions.find((x) => !x.test(conn))?.whyNot(conn)),
      }));
    },
  };
}

function conditionsOf(m: TcpMatch, problem: (p: string) => void): TcpCondition[] {
  const out: TcpCondition[] = [];
  const port = m.port;
  if (port !== undefined) {
    out.push({
      test: (c) => c.port === port,
      whyNot: (c) => `port: connection port ${c.port} is not ${port}`,
    });
  }
  const sniHosts = m.sniHosts;
  if (sniHosts !== undefined && sniHosts.length > 0) {
    const hosts = sniHosts.map((h) => h.toLowerCase());
    out.push({
      test: (c) => c.sni !== undefined && hosts.some((h) => sniMatches(h, c.sni as string)),
      whyNot: (c) =>
        c.sni === undefined
          ? `sniHosts: the connection sent no SNI (want ${hosts.join(', ')})`
          : `sniHosts: ${JSON.stringify(c.sni)} is not ${hosts.join(', ')}`,
    });
  }
  const subnets = m.destinationSubnets;
  if (subnets !== undefined && subnets.length > 0) {
    const list = new BlockList();
    for (const s of subnets) addSubnet(list, s, problem);
    out.push({
      test: (c) => inList(list, c.destinationAddress),
      whyNot: (c) => `destinationSubnets: ${c.destinationAddress} is not in ${subnets.join(', ')}`,
    });
  }
  return out;
}

/** Exact (case-insensitive), `*` for any name, `*.example.com` for any name under example.com. */
export function sniMatches(pattern: string, sni: string): boolean {
  const name = sni.toLowerCase();
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return name.length > pattern.length - 1 && name.endsWith(pattern.slice(1));
  return name === pattern;
}

function addSubnet(list: BlockList, text: string, problem: (p: string) => void): void {
  const [address = '', prefix] = text.split('/');
  const family = isIP(address);
  const bits = prefix === undefined ? undefined : Number(prefix);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= max))) {
    problem(
      `destinationSubnets: ${JSON.stringify(text)} is not an IP address or CIDR (10.0.0.0/8, 2001:db8::/32)`,
    );
    return;
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) list.addAddress(address, type);
  else list.addSubnet(address, bits, type);
}

function inList(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
