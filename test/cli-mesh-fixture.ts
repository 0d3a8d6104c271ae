// Shared by the `alder proxy-config` and `alder explain` tests: apps that say which workload
// answered, a mesh of real proxies (one client, several servers, mTLS) from Istio YAML, and a
// client that sends through the client proxy's forward-proxy port as an HTTP_PROXY app does.

import { createServer, request, type Server } from 'node:http';
import { type Mesh, type ServerWithApp, startClientServerMesh, TestBed } from './mesh-fixture.ts';
import { sidecarPort } from './mesh-yaml.ts';

export interface ServerWorkload {
  name: string;
  address: string;
  /** Besides `instance: <name>`, which its Sidecar selects. */
  labels: Record<string, string>;
}

export interface AppMesh {
  dir: string;
  mesh: Mesh;
  /** `http://127.0.0.1:PORT` of the client proxy's admin port. */
  clientAdmin: string;
  send(url: string, options?: { method?: string; headers?: Record<string, string> }): Promise<Reply>;
  stop(): Promise<void>;
}

export interface Reply {
  status: number;
  /** The workload whose app answered; undefined when the proxy answered itself. */
  workload: string | undefined;
  /** `x-alder-response-flags` of a reply the proxy made. */
  flags: string;
  body: string;
}

/** The header an app answers with, and that an app asked with `x-test-status: N` answers N. */
const WORKLOAD_HEADER = 'x-app-workload';

/**
 * Starts an app per server, then proxies for the servers and for `client` (its forward proxy on
 * `client.address:15001`), all in namespace `shop`, serving HTTP port `port`. `yaml` adds Services
 * and routing.
 */
export async function startAppMesh(o: {
  prefix: string;
  client: { name: string; address: string };
  servers: ServerWorkload[];
  port: number;
  yaml: string;
}): Promise<AppMesh> {
  const bed = new TestBed(o.prefix);
  return bed.setUp(async () => {
    const servers: ServerWithApp[] = [];
    for (const s of o.servers) servers.push({ ...s, appPort: await bed.listen(workloadApp(s.name)) });
    const mesh = await startClientServerMesh(bed, {
      client: o.client,
      servers,
      ports: [sidecarPort(o.port, 'HTTP')],
      yaml: o.yaml,
    });
    return {
      dir: bed.dir,
      mesh,
      clientAdmin: mesh.proxy(o.client.name).admin,
      send: (url, options = {}) => send(o.client.address, url, options),
      stop: () => bed.close(),
    };
  });
}

/** An app that answers with the workload's name (in a header and a JSON body), and `x-test-status`. */
function workloadApp(workload: string): Server {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ workload, method: req.method, path: req.url });
      const status = Number(req.headers['x-test-status'] ?? 200);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        [WORKLOAD_HEADER]: workload,
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  return server;
}

/** Sends `url` (absolute) through the forward proxy at `proxyAddress:15001`; fails after 10 s. */
function send(
  proxyAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string> },
): Promise<Reply> {
  const method = options.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxyAddress,
      port: 15001,
      method,
      path: url,
      agent: false,
      headers: { host: new URL(url).host, ...options.headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${url}: no complete response within 10s`));
    }, 10_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        const workload = res.headers[WORKLOAD_HEADER];
        resolve({
          status: res.statusCode ?? 0,
          workload: typeof workload === 'string' ? workload : undefined,
          flags: String(res.headers['x-alder-response-flags'] ?? ''),
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    req.end();
  });
}
