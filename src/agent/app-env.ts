// The environment `alder run` gives an app: its HTTP client sends through the proxy's forward proxy
// (HTTP_PROXY, which most clients read; NODE_USE_ENV_PROXY=1 makes Node's own fetch and http read
// it), loopback stays direct (NO_PROXY), and each upstream the workload reaches on a port of its own
// (a Sidecar egress port) is named ALDER_UPSTREAM_<SERVICE>_<PORT>=host:port.

import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Snapshot } from '../wire/index.ts';

export interface Upstream {
  /** The service's short name or host (`ratings`, `ratings.shop.svc.cluster.local`). */
  service: string;
  port: number;
  /** Where the app connects to reach it. */
  address: string;
  localPort: number;
}

export interface MeshEnvironment {
  /** The proxy's forward proxy for HTTP (null: none), and the credentials it wants. */
  outboundProxy: { address: string; port: number; user?: string; password?: string } | null;
  upstreams?: readonly Upstream[];
  /** The app's command: a Node app gets NODE_USE_ENV_PROXY=1. */
  command: string;
}

/** The variables to lay over the app's inherited environment. */
export function meshEnvironment(o: MeshEnvironment): Record<string, string> {
  const env: Record<string, string> = {};
  if (o.outboundProxy !== null) {
    const url = forwardProxyUrl(o.outboundProxy);
    env.HTTP_PROXY = url;
    env.http_proxy = url;
    env.NO_PROXY = 'localhost,127.0.0.1,::1';
    env.no_proxy = env.NO_PROXY;
    if (isNodeCommand(o.command)) env.NODE_USE_ENV_PROXY = '1';
  }
  for (const u of o.upstreams ?? []) {
    env[upstreamVariable(u.service, u.port)] = `${hostForUrl(u.address)}:${u.localPort}`;
  }
  return env;
}

/** `http://user:password@host:port` (no userinfo without a user), as HTTP_PROXY holds it. */
export function forwardProxyUrl(p: {
  address: string;
  port: number;
  user?: string;
  password?: string;
}): string {
  const userinfo =
    p.user === undefined ? '' : `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password ?? '')}@`;
  return `http://${userinfo}${hostForUrl(p.address)}:${p.port}`;
}

/**
 * A fresh secret for a workload's forward proxy: the app's HTTP_PROXY carries it, and the proxy
 * wants it back as Proxy-Authorization. Another process on the host cannot send as the workload
 * through its proxy without reading the app's environment.
 */
export function proxySecret(): { user: string; password: string; authorization: string } {
  const password = randomBytes(18).toString('base64url');
  return {
    user: 'alder',
    password,
    authorization: `Basic ${Buffer.from(`alder:${password}`).toString('base64')}`,
  };
}

/** `ALDER_UPSTREAM_RATINGS_9080` for ratings (or ratings.shop.svc.cluster.local) port 9080. */
export function upstreamVariable(service: string, port: number): string {
  const short = service.split('.')[0] ?? service;
  return `ALDER_UPSTREAM_${short.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${port}`;
}

function isNodeCommand(command: string): boolean {
  const name = basename(command);
  return name === 'node' || name === 'nodejs' || /^node\d+$/.test(name);
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The upstreams an app reaches on local ports (a Sidecar's egress listeners), for ALDER_UPSTREAM_*. */
export function upstreamsOf(snapshot: Pick<Snapshot, 'listeners' | 'routeTables'> | undefined): Upstream[] {
  const out: Upstream[] = [];
  for (const l of snapshot?.listeners ?? []) {
    if (l.kind !== 'outbound-port') continue;
    const table = snapshot?.routeTables.find((t) => t.name === l.routeTable);
    const address = l.address === '0.0.0.0' ? '127.0.0.1' : l.address === '::' ? '::1' : l.address;
    for (const vh of table?.virtualHosts ?? []) {
      out.push({ service: vh.name.replace(/:\d+$/, ''), port: l.port, address, localPort: l.port });
    }
  }
  return out;
}
