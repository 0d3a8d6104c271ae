// Outbound calls of the demo apps, as a meshed app makes them: HTTP through the forward proxy in
// HTTP_PROXY (absolute-form requests, Proxy-Authorization when the URL has credentials), TCP tunnels
// by CONNECT for gRPC, and straight connections when there is no proxy. ALDER_DEMO_HOSTS maps a name
// to an address for runs without the mesh. Every call has a deadline; errors are CallErrors.

import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { CallError, callError } from './call-error.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface ProxySettings extends HostPort {
  /** `Basic base64(user:password)` when the proxy URL carries credentials. */
  authorization: string | undefined;
}

/** Where a connection to a host goes: straight to an address, or to the forward proxy. */
export type Route = { kind: 'direct'; to: HostPort } | { kind: 'proxy'; proxy: ProxySettings };

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CallOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Answers with a longer body fail with BODY_TOO_LARGE. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export class MeshClient {
  readonly proxy: ProxySettings | undefined;
  #overrides: ReadonlyMap<string, HostPort>;
  #noProxy: readonly string[];
  #agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 });

  constructor(o: { proxy?: ProxySettings; overrides?: ReadonlyMap<string, HostPort>; noProxy?: string[] }) {
    this.proxy = o.proxy;
    this.#overrides = o.overrides ?? new Map();
    this.#noProxy = o.noProxy ?? [];
  }

  /** Reads HTTP_PROXY (or http_proxy), NO_PROXY (or no_proxy) and ALDER_DEMO_HOSTS; throws on a bad value. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): MeshClient {
    const proxyUrl = env.HTTP_PROXY || env.http_proxy;
    const noProxy = (env.NO_PROXY || env.no_proxy || '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    return new MeshClient({
      ...(proxyUrl ? { proxy: parseProxyUrl(proxyUrl) } : {}),
      overrides: parseHostOverrides(env.ALDER_DEMO_HOSTS ?? ''),
      noProxy,
    });
  }

  /**
   * An address in ALDER_DEMO_HOSTS wins; then the proxy, except for a loopback host NO_PROXY lists;
   * then the host itself.
   */
  route(host: string, port: number): Route {
    const mapped = this.#overrides.get(`${host}:${port}`) ?? this.#overrides.get(host);
    if (mapped !== undefined) return { kind: 'direct', to: mapped };
    if (this.proxy !== undefined && !this.#isNoProxy(host)) return { kind: 'proxy', proxy: this.proxy };
    return { kind: 'direct', to: { host, port } };
  }

  /** One HTTP/1.1 request; resolves with the whole answer (any status), rejects with a CallError. */
  request(url: string, o: CallOptions & { method?: string }): Promise<HttpAnswer> {
    const target = new URL(url);
    const port = Number(target.port || 80);
    const route = this.route(unbracket(target.hostname), port);
    const headers: Record<string, string> = { ...o.headers, host: target.host };
    let where = target.host;
    let connectTo: HostPort;
    let path: string;
    if (route.kind === 'proxy') {
      connectTo = route.proxy;
      path = `${target.protocol}//${target.host}${target.pathname}${target.search}`;
      if (route.proxy.authorization !== undefined) headers['proxy-authorization'] = route.proxy.authorization;
      where = `${target.host} via proxy ${route.proxy.host}:${route.proxy.port}`;
    } else {
      connectTo = route.to;
      path = `${target.pathname}${target.search}`;
    }
    const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        host: connectTo.host,
        port: connectTo.port,
        method: o.method ?? 'GET',
        path,
        headers,
        agent: this.#agent,
      });
      // Rejects first, then drops the connection: the errors that follow (aborted, hang up) change nothing.
      const cut = (e: CallError) => {
        clearTimeout(timer);
        reject(e);
        req.destroy();
      };
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(callError(e, where));
      };
      const timer = setTimeout(
        () => cut(new CallError('TIMEOUT', `${where}: no answer within ${o.timeoutMs}ms`)),
        o.timeoutMs,
      );
      req.once('error', onError);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            cut(new CallError('BODY_TOO_LARGE', `${where}: answer body over ${maxBodyBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.once('error', onError);
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end();
    });
  }

  /**
   * A TCP connection to `authority` (host:port): a CONNECT tunnel through the proxy, or a straight
   * connection. The caller owns the socket.
   */
  dial(authority: string, timeoutMs: number): Promise<Socket> {
    const { host, port } = parseHostPort(authority, `authority ${JSON.stringify(authority)}`);
    const route = this.route(host, port);
    if (route.kind === 'proxy') return tunnel(route.proxy, authority, timeoutMs);
    return connectDirect(route.to, authority, timeoutMs);
  }

  /** Closes pooled keep-alive connections; calls in flight are cut. */
  close(): void {
    this.#agent.destroy();
  }

  #isNoProxy(host: string): boolean {
    if (!isLoopback(host)) return false;
    return this.#noProxy.some((entry) => entry === '*' || entry === host.toLowerCase());
  }
}

function tunnel(proxy: ProxySettings, authority: string, timeoutMs: number): Promise<Socket> {
  const where = `${authority} via proxy ${proxy.host}:${proxy.port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
    });
    const timer = setTimeout(
      () => req.destroy(new CallError('TIMEOUT', `${where}: CONNECT not answered within ${timeoutMs}ms`)),
      timeoutMs,
    );
    req.once('error', (e) => {
      clearTimeout(timer);
      reject(callError(e, where));
    });
    req.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new CallError('PROXY_REFUSED', `${where}: CONNECT answered ${res.statusCode}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      socket.setNoDelay(true);
      resolve(socket);
    });
    req.end();
  });
}

function connectDirect(to: HostPort, authority: string, timeoutMs: number): Promise<Socket> {
  const where = to.host === authority ? authority : `${authority} at ${to.host}:${to.port}`;
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: to.host, port: to.port, noDelay: true });
    const timer = setTimeout(
      () => socket.destroy(new CallError('TIMEOUT', `${where}: no connection within ${timeoutMs}ms`)),
      timeoutMs,
    );
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(callError(e, where));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** `http://user:secret@127.0.0.5:15001` (scheme optional) → host, port and the Basic credentials. */
export function parseProxyUrl(raw: string): ProxySettings {
  const url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  if (url.protocol !== 'http:') {
    throw new Error(`HTTP_PROXY: only http:// proxies are supported, got ${JSON.stringify(raw)}`);
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const authorization =
    user === '' && password === ''
      ? undefined
      : `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { host: unbracket(url.hostname), port: Number(url.port || 80), authorization };
}

/** `details.bookinfo=127.0.0.1:19081,reviews.bookinfo:9080=127.0.0.1:19082` → name (or name:port) → address. */
export function parseHostOverrides(raw: string): Map<string, HostPort> {
  const out = new Map<string, HostPort>();
  for (const entry of raw.split(',')) {
    const item = entry.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`ALDER_DEMO_HOSTS: want NAME=HOST:PORT, got ${JSON.stringify(item)}`);
    const name = item.slice(0, eq).toLowerCase();
    out.set(name, parseHostPort(item.slice(eq + 1), `ALDER_DEMO_HOSTS entry ${JSON.stringify(item)}`));
  }
  return out;
}

/** `host:port` or `[v6]:port`; throws with `what` in the message. */
export function parseHostPort(raw: string, what: string): HostPort {
  const colon = raw.lastIndexOf(':');
  const host = unbracket(raw.slice(0, colon));
  const port = Number(raw.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${what}: want HOST:PORT, got ${JSON.stringify(raw)}`);
  }
  return { host, port };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
