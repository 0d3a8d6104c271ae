// Shared by the traffic-management tests (test/traffic-*.test.ts): app servers that say which workload
// answered and misbehave when a request asks them to, a mesh of one client and several server
// workloads built from Istio YAML, and a client that sends requests through the client proxy's
// forward-proxy port (HTTP_PROXY). Each test file still spells out its own Services and routing.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { listenOnLoopback } from './harness.ts';
import { type Mesh, startClientServerMesh, TestBed } from './mesh-fixture.ts';
import { sidecarPort } from './mesh-yaml.ts';

/**
 * Request headers that steer an app. The status and delay apply only at the workloads named in
 * `x-test-on` (comma-separated) when it is given. `x-test-fail-times: N` makes the first N requests
 * carrying the same `x-test-key`, wherever they land, answer `x-test-fail-status` (503 unless given)
 * after `x-test-fail-delay-ms`; later ones behave normally. A status of `reset` closes the connection
 * without an answer.
 */
export const TestHeader = {
  key: 'x-test-key',
  status: 'x-test-status',
  delayMs: 'x-test-delay-ms',
  on: 'x-test-on',
  failTimes: 'x-test-fail-times',
  failStatus: 'x-test-fail-status',
  failDelayMs: 'x-test-fail-delay-ms',
  /** A JSON object of headers the app adds to its response. */
  responseHeaders: 'x-test-response-headers',
} as const;

/** Every app response carries these, so a test can see them kept, replaced or removed. */
export const APP_WORKLOAD_HEADER = 'x-app-workload';
export const APP_INTERNAL_HEADER = 'x-app-internal';
export const FLAGS_HEADER = 'x-alder-response-flags';

/** What an app received, as it reports it in its JSON body. */
export interface SeenRequest {
  workload: string;
  method: string;
  /** The request target as the app got it: path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `x-test-key`, '' when absent. */
  key: string;
  /** Date.now() when the request's body had arrived. */
  atMs: number;
}

/** The apps of every server workload in one test file, sharing the `x-test-fail-times` counters. */
export class AppFleet {
  readonly seen: SeenRequest[] = [];
  readonly #servers = new Map<string, { server: Server; port: number }>();
  readonly #triesByKey = new Map<string, number>();
  readonly #events = new EventEmitter();

  /** Starts one app per workload name on 127.0.0.1, on an ephemeral port. */
  static async start(workloads: readonly string[]): Promise<AppFleet> {
    const fleet = new AppFleet();
    for (const w of workloads) await fleet.#startApp(w);
    return fleet;
  }

  port(workload: string): number {
    const app = this.#servers.get(workload);
    if (app === undefined) throw new Error(`no app for workload ${workload}`);
    return app.port;
  }

  /** Requests seen with this `x-test-key` (at one workload, when given). */
  requests(key: string, workload?: string): SeenRequest[] {
    return this.seen.filter((s) => s.key === key && (workload === undefined || s.workload === workload));
  }

  hits(key: string, workload?: string): number {
    return this.requests(key, workload).length;
  }

  /** Hits with this key per workload, e.g. `{ 'reviews-v1': 3 }`. */
  hitsByWorkload(key: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.requests(key)) out[s.workload] = (out[s.workload] ?? 0) + 1;
    return out;
  }

  /** Resolves with the first request (seen or to come) that `match` accepts; fails after `ms`. */
  waitFor(match: (s: SeenRequest) => boolean, what: string, ms = 5000): Promise<SeenRequest> {
    const found = this.seen.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onSeen = (s: SeenRequest) => {
        if (!match(s)) return;
        clearTimeout(timer);
        this.#events.off('seen', onSeen);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.#events.off('seen', onSeen);
        reject(new Error(`want ${what} within ${ms}ms; the apps saw nothing like it`));
      }, ms);
      this.#events.on('seen', onSeen);
    });
  }

  /** Resolves once no app has seen a request for `quietMs` (or after `maxMs`, whichever is first). */
  waitQuiet(quietMs: number, maxMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(quiet);
        clearTimeout(cap);
        this.#events.off('seen', onSeen);
        resolve();
      };
      let quiet = setTimeout(done, quietMs);
      const cap = setTimeout(done, maxMs);
      const onSeen = () => {
        clearTimeout(quiet);
        quiet = setTimeout(done, quietMs);
      };
      this.#events.on('seen', onSeen);
    });
  }

  async close(): Promise<void> {
    for (const { server } of this.#servers.values()) {
      server.closeAllConnections();
      server.close();
    }
  }

  async #startApp(workload: string): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const h = req.headers;
        const seen: SeenRequest = {
          workload,
          method: req.method ?? '',
          path: req.url ?? '',
          headers: h,
          body: Buffer.concat(chunks).toString(),
          key: one(h[TestHeader.key]) ?? '',
          atMs: Date.now(),
        };
        this.seen.push(seen);
        this.#events.emit('seen', seen);
        const { status, delayMs } = this.#behaviour(seen);
        const body = JSON.stringify(seen);
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          [APP_WORKLOAD_HEADER]: workload,
          [APP_INTERNAL_HEADER]: 'secret',
          ...(JSON.parse(one(h[TestHeader.responseHeaders]) ?? '{}') as Record<string, string>),
        };
        const answer = () => {
          if (res.destroyed) return;
          if (status === RESET) {
            req.socket.destroy();
            return;
          }
          res.writeHead(status, headers);
          res.end(body);
        };
        if (delayMs > 0) setTimeout(answer, delayMs).unref();
        else answer();
      });
    });
    server.keepAliveTimeout = 5000;
    this.#servers.set(workload, { server, port: await listenOnLoopback(server) });
  }

  #behaviour(s: SeenRequest): { status: number; delayMs: number } {
    const h = s.headers;
    const failTimes = Number(one(h[TestHeader.failTimes]) ?? 0);
    if (failTimes > 0) {
      const tries = (this.#triesByKey.get(s.key) ?? 0) + 1;
      this.#triesByKey.set(s.key, tries);
      if (tries <= failTimes) {
        return {
          status: statusOf(one(h[TestHeader.failStatus]) ?? '503'),
          delayMs: Number(one(h[TestHeader.failDelayMs]) ?? 0),
        };
      }
    }
    const on = one(h[TestHeader.on]);
    if (on !== undefined && !on.split(',').includes(s.workload)) return { status: 200, delayMs: 0 };
    return {
      status: statusOf(one(h[TestHeader.status]) ?? '200'),
      delayMs: Number(one(h[TestHeader.delayMs]) ?? 0),
    };
  }
}

/** The app closes the connection instead of answering. */
const RESET = 0;

function statusOf(text: string): number {
  return text === 'reset' ? RESET : Number(text);
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A unique `x-test-key` for one test, readable in failures. */
export function testKey(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

/** What the caller got back. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  elapsedMs: number;
  /** The workload that answered, when the body is an app's JSON; undefined for a proxy's own reply. */
  workload: string | undefined;
  /** The request as the app saw it, when an app answered. */
  seen: SeenRequest | undefined;
  /** `x-alder-response-flags`, split on commas; [] when absent (an app's response). */
  flags: string[];
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange's deadline; past it the request fails with a message. Default 10 s. */
  timeoutMs?: number;
}

/** Sends requests through one proxy's forward-proxy port (absolute-form targets, as HTTP_PROXY clients do). */
export class ForwardClient {
  readonly #host: string;
  readonly #port: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** `url` is absolute: `http://reviews.shop:9080/path?q=1`. */
  async send(url: string, options: SendOptions = {}): Promise<Reply> {
    try {
      return await this.#sendOnce(url, options);
    } catch (e) {
      // A pooled connection the proxy closed while idle: the request never left, so send it again.
      if ((e as { reusedSocket?: boolean }).reusedSocket === true) return this.#sendOnce(url, options);
      throw e;
    }
  }

  /** Sends `count` requests, `concurrency` at a time; `make(i)` gives each its URL and options. */
  async sendMany(
    count: number,
    concurrency: number,
    make: (i: number) => [string, SendOptions?],
  ): Promise<Reply[]> {
    const replies: Reply[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const [url, options] = make(i);
        replies[i] = await this.send(url, options);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return replies;
  }

  close(): void {
    this.#agent.destroy();
  }

  #sendOnce(url: string, options: SendOptions): Promise<Reply> {
    const target = new URL(url);
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.#host,
        port: this.#port,
        method: options.method ?? 'GET',
        path: url,
        agent: this.#agent,
        headers: { host: target.host, ...options.headers },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`${options.method ?? 'GET'} ${url}: no complete response within ${timeoutMs}ms`));
      }, timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(Object.assign(e, { reusedSocket: req.reusedSocket }));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve(reply(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString(), started));
        });
      });
      req.end(options.body);
    });
  }
}

function reply(status: number, headers: IncomingHttpHeaders, body: string, started: number): Reply {
  const flags = one(headers[FLAGS_HEADER]);
  let seen: SeenRequest | undefined;
  if (headers[APP_WORKLOAD_HEADER] !== undefined) {
    try {
      seen = JSON.parse(body) as SeenRequest;
    } catch {
      seen = undefined;
    }
  }
  return {
    status,
    headers,
    body,
    elapsedMs: performance.now() - started,
    workload: seen?.workload,
    seen,
    flags: flags === undefined ? [] : flags.split(',').map((f) => f.trim()),
  };
}

/** A short description of a reply for assertion messages. */
export function describeReply(r: Reply): string {
  const who = r.workload === undefined ? `proxy flags=[${r.flags.join(',')}]` : `app ${r.workload}`;
  return `${r.status} from ${who} after ${Math.round(r.elapsedMs)}ms: ${r.body.slice(0, 200)}`;
}

/** Counts replies per answering workload (`proxy` for the proxy's own replies). */
export function countByWorkload(replies: readonly Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const who = r.workload ?? 'proxy';
    out[who] = (out[who] ?? 0) + 1;
  }
  return out;
}

// ---- YAML ---------------------------------------------------------------------------------------

/** A Service in `shop` selecting `selector`, with HTTP ports (named `http`, `http-alt`, …). */
export function httpService(
  name: string,
  selector: Record<string, string>,
  ports: { name: string; port: number }[] = [{ name: 'http', port: 9080 }],
): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  selector: ${JSON.stringify(selector)}
  ports: ${JSON.stringify(ports)}
`;
}

/** A DestinationRule for `host` with subsets `{name: labels}` and an optional trafficPolicy (YAML, indented 2). */
export function destinationRule(
  host: string,
  options: { subsets?: Record<string, Record<string, string>>; trafficPolicy?: string } = {},
): string {
  const subsets = Object.entries(options.subsets ?? {}).map(
    ([name, labels]) => `  - name: ${name}\n    labels: ${JSON.stringify(labels)}\n`,
  );
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host}, namespace: shop}
spec:
  host: ${host}
${options.trafficPolicy === undefined ? '' : `  trafficPolicy:\n${indent(options.trafficPolicy, 4)}`}${subsets.length > 0 ? `  subsets:\n${subsets.join('')}` : ''}`;
}

/** A VirtualService in `shop`; `http` is the YAML of its `http:` list, at any indentation. */
export function virtualService(name: string, hosts: string[], http: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: shop}
spec:
${hosts.length > 0 ? `  hosts: ${JSON.stringify(hosts)}\n` : ''}  http:
${indent(http, 2)}`;
}

/** Re-indents a YAML block: strips its common leading indentation, then indents every line by `by`. */
export function indent(block: string, by: number): string {
  const lines = block.replace(/^\n+|\s+$/g, '').split('\n');
  const common = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return `${lines.map((l) => (l.trim() === '' ? '' : ' '.repeat(by) + l.slice(common))).join('\n')}\n`;
}

// ---- The mesh -----------------------------------------------------------------------------------

export interface ServerWorkload {
  name: string;
  address: string;
  /** Its labels besides `instance: <name>`, e.g. `{app: 'reviews', version: 'v1'}`. */
  labels: Record<string, string>;
  /** `region/zone/subzone`, for locality-aware load balancing. */
  locality?: string;
}

export interface TrafficMesh {
  dir: string;
  mesh: Mesh;
  fleet: AppFleet;
  /** Sends through the client workload's forward-proxy port. */
  client: ForwardClient;
  stop(): Promise<void>;
}

/**
 * Starts an app per server workload, then a mesh in namespace `shop`: the client workload (its
 * forward proxy on `clientAddress:15001`) and the server workloads, each serving `ports` to its own app
 * (a Sidecar per workload, selected by `instance: <name>`). `yaml` adds the Services and the routing.
 */
export async function startTrafficMesh(options: {
  prefix: string;
  clientAddress: string;
  servers: ServerWorkload[];
  ports: number[];
  yaml: string;
  /** The client workload's `region/zone/subzone`. */
  clientLocality?: string;
}): Promise<TrafficMesh> {
  const bed = new TestBed(options.prefix);
  return bed.setUp(async () => {
    const fleet = await AppFleet.start(options.servers.map((s) => s.name));
    bed.addApp(() => void fleet.close());
    const mesh = await startClientServerMesh(bed, {
      client: { name: 'client', address: options.clientAddress, locality: options.clientLocality },
      servers: options.servers.map((s) => ({ ...s, appPort: fleet.port(s.name) })),
      ports: options.ports.map((p) => sidecarPort(p, 'HTTP', `http-${p}`)),
      yaml: options.yaml,
    });
    const client = new ForwardClient(options.clientAddress, 15001);
    bed.defer(() => client.close());
    return { dir: bed.dir, mesh, fleet, client, stop: () => bed.close() };
  });
}

/** Asserts `value` lies in [low, high], naming what was measured. */
export function assertBetween(value: number, low: number, high: number, what: string): void {
  assert.ok(value >= low && value <= high, `want ${what} between ${low} and ${high}, got ${value}`);
}
