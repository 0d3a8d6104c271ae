// HTTP/2 and gRPC through the forward proxy (HTTP_PROXY) between two real proxies with mTLS: grpc-js
// with `http_proxy` (CONNECT, then h2c inside the tunnel), curl over CONNECT to HTTP/2 and HTTP/1
// services, an HTTP/1.1 request to an HTTP/2-only app, and h2c sent to an HTTP/1.1 egress port.
// Every tunnelled request is routed by the client's proxy: the VirtualService's header edit shows it.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH1Server, type Server } from 'node:http';
import {
  createServer as createH2Server,
  type Http2Server,
  connect as h2connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Greeter, greeterClient, grpcErrorText, startGreeter } from './grpc-js-kit.ts';
import { h2Request, within } from './grpc-kit.ts';
import { removeDir, tempDir } from './harness.ts';
import {
  curl,
  type Mesh,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

const CLIENT = '127.0.137.1';
const WEB = '127.0.137.2';
const PROXY = `http://${CLIENT}:15001`;
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';

/** A VirtualService that adds `x-routed-by: client-proxy` to requests for `host`: only the client's proxy routes them. */
function taggingRoute(host: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${host}, namespace: shop}
spec:
  hosts: [${host}]
  http:
  - headers: {request: {set: {x-routed-by: client-proxy}}}
    route: [{destination: {host: ${host}}}]
`;
}

/** The mesh: client (CLIENT, forward proxy on :15001, an HTTP/1.1 egress port 8080) → web (WEB). */
function config(ports: { greeter: number; h2: number; h1: number }): string {
  return yamlDocs(
    service('greeter', 'shop', [{ name: 'grpc', port: 9090 }], 'web'),
    service('h2web', 'shop', [{ name: 'http2-web', port: 9080 }], 'web'),
    service('h1web', 'shop', [{ name: 'http', port: 8080 }], 'web'),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('client', 'shop', CLIENT),
    sidecarIngress('web', 'shop', [
      {
        port: { number: 9090, protocol: 'GRPC', name: 'grpc' },
        defaultEndpoint: `127.0.0.1:${ports.greeter}`,
      },
      { port: { number: 9080, protocol: 'HTTP2', name: 'http2' }, defaultEndpoint: `127.0.0.1:${ports.h2}` },
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: `127.0.0.1:${ports.h1}` },
    ]),
    sidecarEgress('client', 'shop', [
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, bind: CLIENT, hosts: ['./*'] },
    ]),
    taggingRoute('h2web'),
    taggingRoute('h1web'),
    taggingRoute('greeter'),
  );
}

interface Echo {
  /** `2` for HTTP/2, `1.1` for HTTP/1.1: what the app was spoken to in. */
  version: string;
  authority: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** An HTTP/2-only app (no HTTP/1 fallback) answering each request with what it saw, as JSON. */
async function h2App(): Promise<{ server: Http2Server; port: number }> {
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const echo: Echo = {
      version: '2',
      authority: String(headers[':authority']),
      path: String(headers[':path']),
      headers,
    };
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify(echo));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** An HTTP/1.1 app answering each request with what it saw, as JSON. */
async function h1App(): Promise<{ server: Server; port: number }> {
  const server = createH1Server((req, res) => {
    const echo: Echo = {
      version: req.httpVersion,
      authority: String(req.headers.host),
      path: String(req.url),
      headers: req.headers,
    };
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** Sends `CONNECT target` to the forward proxy; resolves with the socket once the proxy answered 200. */
async function connectTunnel(target: string): Promise<Socket> {
  const socket = connect({ host: CLIENT, port: 15001 });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`);
  let head = '';
  return within(
    new Promise<Socket>((resolve, reject) => {
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        if (!head.startsWith('HTTP/1.1 200 '))
          reject(new Error(`want 200 to CONNECT ${target}, got ${head}`));
        else resolve(socket);
      };
      socket.on('data', onData);
    }),
    `the answer to CONNECT ${target}`,
  );
}

/** curl through a CONNECT tunnel: the response after the proxy's `200 Connection Established`. */
async function curlTunnel(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const r = await curl(['--proxytunnel', '-x', PROXY, ...args]);
  if (!r.headers.startsWith('HTTP/1.1 200 Connection Established'))
    throw new Error(`want 200 to CONNECT, got ${r.headers}`);
  const rest = r.body;
  const split = rest.indexOf('\r\n\r\n');
  const headers = rest.slice(0, split);
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1]), headers, body: rest.slice(split + 4) };
}

function echoOf(body: string, what: string): Echo {
  try {
    return JSON.parse(body) as Echo;
  } catch {
    throw new Error(`${what}: want the app's JSON echo, got ${JSON.stringify(body)}`);
  }
}

describe('proxy: HTTP/2 and gRPC through the forward proxy (HTTP_PROXY)', () => {
  let dir: string;
  let mesh: Mesh;
  let greeter: Awaited<ReturnType<typeof startGreeter>>;
  let h2: Awaited<ReturnType<typeof h2App>>;
  let h1: Awaited<ReturnType<typeof h1App>>;
  const clients: Greeter[] = [];

  before(async () => {
    dir = tempDir('fwd-h2');
    greeter = await startGreeter();
    h2 = await h2App();
    h1 = await h1App();
    mesh = await startMesh({
      dir,
      yaml: config({ greeter: greeter.port, h2: h2.port, h1: h1.port }),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await mesh.stop({ wantCleanExit: true });
    greeter.stop();
    h2.server.close();
    h1.server.close();
    removeDir(dir);
  });

  it('grpc-js with http_proxy: unary and server-streaming calls go CONNECT → h2c → mTLS → the app', async () => {
    const client = greeterClient('greeter.shop:9090', { http_proxy: PROXY });
    clients.push(client);
    const hello = await within(client.sayHello('ada'), 'the unary SayHello through the forward proxy');
    assert.equal(hello.message, 'hello ada', 'want the unary reply');
    assert.equal(hello.authority, 'greeter.shop:9090', 'want the :authority grpc-js sent, unchanged');
    assert.match(
      hello.xfcc,
      new RegExp(`URI=${CLIENT_ID}$`),
      `want the call to arrive over mTLS from the client's proxy, got XFCC ${JSON.stringify(hello.xfcc)}`,
    );
    const stream = await client.countTo('bob', 3);
    assert.deepEqual(
      stream.map((g) => g.message),
      ['1 for bob', '2 for bob', '3 for bob'],
      'want the three streamed replies, then OK',
    );
    const again = await within(client.sayHello('cy'), 'a second call on the same tunnel');
    assert.equal(again.message, 'hello cy', 'want the channel reused for a second call');
  });

  it('CONNECT to an HTTP/2 service: the tunnelled h2c is routed by the client proxy (its VirtualService applies)', async () => {
    const socket = await connectTunnel('h2web.shop:9080');
    const session = h2connect('http://h2web.shop:9080', { createConnection: () => socket });
    session.on('error', () => undefined);
    try {
      const r = await within(
        h2Request(session, { ':path': '/hello?x=1', ':authority': 'h2web.shop:9080' }),
        'a GET over h2c inside the tunnel',
      );
      assert.equal(r.status, 200, `want 200 from the app, got ${r.status}: ${r.body}`);
      const echo = echoOf(r.body, 'h2c in a CONNECT tunnel');
      assert.equal(echo.path, '/hello?x=1', 'want the path as sent');
      assert.equal(
        echo.headers['x-routed-by'],
        'client-proxy',
        "want the request routed by the client's proxy (the VirtualService's header edit)",
      );
      // A client that names a host the proxy does not know (its own idea of the server's name) is
      // routed to the CONNECT target.
      const stray = await within(
        h2Request(session, { ':path': '/stray', ':authority': 'localhost:50051' }),
        'a GET whose :authority names no mesh host',
      );
      assert.equal(stray.status, 200, `want 200 via the CONNECT target, got ${stray.status}: ${stray.body}`);
      assert.equal(
        echoOf(stray.body, 'an unknown :authority').authority,
        'h2web.shop:9080',
        'want the CONNECT target as the authority the app sees',
      );
    } finally {
      session.destroy();
    }
  });

  it('curl --proxytunnel --http2-prior-knowledge to an HTTP/2 service through HTTP_PROXY', async () => {
    const r = await curlTunnel(['--http2-prior-knowledge', 'http://h2web.shop:9080/curl']);
    assert.match(r.headers, /^HTTP\/2 200/, `want HTTP/2 200 inside the tunnel, got ${r.headers}`);
    const echo = echoOf(r.body, 'curl over CONNECT with h2c');
    assert.equal(echo.headers['x-routed-by'], 'client-proxy', "want the client proxy's routing applied");
  });

  it('curl --proxytunnel with HTTP/1.1 to an HTTP service: served by the client proxy, not relayed raw', async () => {
    const r = await curlTunnel(['http://h1web.shop:8080/tunnelled']);
    assert.equal(r.status, 200, `want 200, got ${r.status}: ${r.body}`);
    const echo = echoOf(r.body, 'HTTP/1.1 over CONNECT');
    assert.equal(echo.path, '/tunnelled', 'want the path as sent');
    assert.equal(echo.headers['x-routed-by'], 'client-proxy', "want the client proxy's routing applied");
    assert.match(String(echo.headers['x-forwarded-client-cert']), new RegExp(`URI=${CLIENT_ID}$`));
  });

  it('an HTTP/1.1 request through HTTP_PROXY to an HTTP/2-only app is translated to HTTP/2', async () => {
    const r = await curl(['-x', PROXY, 'http://h2web.shop:9080/from-http1?q=2']);
    assert.equal(
      r.status,
      200,
      `want 200 from the HTTP/2-only app, got ${r.status}: ${r.headers}\n${r.body}`,
    );
    const echo = echoOf(r.body, 'HTTP/1.1 to an HTTP/2 app');
    assert.equal(echo.version, '2', 'want the app spoken to in HTTP/2');
    assert.equal(echo.path, '/from-http1?q=2', 'want the path as sent');
    assert.equal(echo.authority, 'h2web.shop:9080', 'want the Host as the :authority');
  });

  it('h2c to an HTTP/1.1 egress port: the error says the port is HTTP/1.1 and what to do', async () => {
    // grpc-js, the usual h2c client: the call fails with the reason, not "Protocol error".
    const client = greeterClient(`${CLIENT}:8080`);
    clients.push(client);
    const err = await within(
      client.sayHello('eve').then(
        (g) => new Error(`want the call refused, got ${JSON.stringify(g)}`),
        (e: unknown) => e,
      ),
      'the refused gRPC call',
    );
    const text = grpcErrorText(err);
    assert.match(text, /egress\|8080/, `want the listener named, got ${text}`);
    assert.match(text, /HTTP\/1\.1/, `want the port's protocol named, got ${text}`);
    assert.match(text, /http2 or grpc/, `want the fix (name the port http2 or grpc), got ${text}`);
    // curl with prior knowledge reads the same reason as the body of an HTTP/2 reply.
    const r = await curl(['--http2-prior-knowledge', `http://${CLIENT}:8080/`]);
    assert.match(r.headers, /^HTTP\/2 400/, `want HTTP/2 400, got ${r.headers}`);
    assert.match(r.body, /egress\|8080 .*HTTP\/1\.1/, `want the reason in the body, got ${r.body}`);
    // HTTP/1.1 on the same port still works.
    const ok = await curl(['-H', 'host: h1web.shop:8080', `http://${CLIENT}:8080/plain`]);
    assert.equal(ok.status, 200, `want HTTP/1.1 served on the port, got ${ok.status}: ${ok.body}`);
  });
});
