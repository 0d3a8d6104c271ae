// MeshConfig pathNormalization through two real proxies: a request's path is normalized before
// routing, so routes match the normalized path and the app receives it — over HTTP/1 (curl
// --path-as-is, so curl sends the path as written) and HTTP/2, from the app (outbound) and from
// outside the mesh to an inbound port; a path that cannot be normalized gets 400; NONE sends it as
// it came. Routes mark the response with `x-route`, and the apps echo the path they received.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  createServer as createH2Server,
  type Http2Server,
} from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { h2Request, within } from './grpc-kit.ts';
import { applyConfig, curl, type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import {
  meshConfig,
  peerAuthentication,
  service,
  sidecarEgress,
  sidecarIngress,
  sidecarPort,
  workloadEntry,
  yamlDocs,
} from './mesh-yaml.ts';

const CLIENT = '127.0.150.1';
const WEB = '127.0.150.2';

/** The HTTP/1 app: answers every request with the target it received, as JSON `{path}`. */
function http1App(): { server: Server; seen: string[] } {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    seen.push(req.url ?? '');
    const body = JSON.stringify({ path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return { server, seen };
}

/** The HTTP/2 app: the same, with the stream's `:path`. */
function h2App(): { server: Http2Server; seen: string[] } {
  const seen: string[] = [];
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    seen.push(String(headers[':path']));
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ path: headers[':path'] }));
    });
  });
  return { server, seen };
}

/** Routes on `host`: `exact: /admin` and `prefix: /public`, each naming itself in `x-route`; nothing else. */
function routes(host: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${host}, namespace: shop}
spec:
  hosts: [${host}]
  http:
  - name: admin
    match: [{uri: {exact: /admin}}]
    headers: {response: {set: {x-route: admin}}}
    route: [{destination: {host: ${host}}}]
  - name: public
    match: [{uri: {prefix: /public}}]
    headers: {response: {set: {x-route: public}}}
    route: [{destination: {host: ${host}}}]
`;
}

/** client → web: web.shop:8080 (HTTP/1 app), greeter.shop:9090 (HTTP/2 app), both on web, PERMISSIVE. */
function config(ports: { http1: number; h2: number }, normalization?: string): string {
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    service('greeter', 'shop', [{ name: 'http2', port: 9090 }], 'web'),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('client', 'shop', CLIENT),
    peerAuthentication('web', 'shop', 'PERMISSIVE'),
    sidecarIngress('web', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), appPort: ports.http1 },
      { port: sidecarPort(9090, 'HTTP2'), appPort: ports.h2 },
    ]),
    sidecarEgress('client', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), bind: CLIENT, hosts: ['./*'] },
      { port: sidecarPort(9090, 'HTTP2'), bind: CLIENT, hosts: ['./*'] },
    ]),
    routes('web'),
    routes('greeter'),
    ...(normalization === undefined
      ? []
      : [meshConfig(`{pathNormalization: {normalization: ${normalization}}}`)]),
  );
}

/** What a request came to: the status, the route that took it (`x-route`), the path the app received. */
interface Outcome {
  status: number;
  route: string | undefined;
  appPath: string | undefined;
  body: string;
}

interface Case {
  /** The path as sent, byte for byte. */
  sent: string;
  want: { status: 200; route: 'admin' | 'public'; appPath: string } | { status: number };
}

describe('proxy: MeshConfig pathNormalization', () => {
  const bed = new TestBed('pathnorm');
  const app = http1App();
  const h2 = h2App();
  let ports: { http1: number; h2: number };
  let mesh: Mesh;
  let session: ClientHttp2Session | undefined;

  /** HTTP/1 from the app through its egress port, with curl sending the path exactly as written. */
  const viaHttp1 = async (path: string): Promise<Outcome> => {
    const r = await curl(['--path-as-is', '-H', 'Host: web.shop:8080', `http://${CLIENT}:8080${path}`]);
    const route = /^x-route: (\S+)/im.exec(r.headers)?.[1];
    const appPath = r.status === 200 ? (JSON.parse(r.body) as { path: string }).path : undefined;
    return { status: r.status, route, appPath, body: r.body };
  };

  /** HTTP/2 (h2c) from the app through its egress port, `:path` as given. */
  const viaH2 = async (path: string): Promise<Outcome> => {
    if (session === undefined || session.closed || session.destroyed) {
      session = connect(`http://${CLIENT}:9090`);
      session.on('error', () => undefined);
    }
    const r = await within(
      h2Request(session, { ':path': path, ':authority': 'greeter.shop:9090' }),
      `the HTTP/2 response to ${path}`,
    );
    const route = r.headers['x-route'] as string | undefined;
    const appPath = r.status === 200 ? (JSON.parse(r.body) as { path: string }).path : undefined;
    return { status: r.status, route, appPath, body: r.body };
  };

  /** Runs each case through `send`, collecting every miss as a line that says what was wanted. */
  const check = async (what: string, send: (path: string) => Promise<Outcome>, cases: Case[]) => {
    const wrong: string[] = [];
    for (const c of cases) {
      const before = app.seen.length + h2.seen.length;
      const got = await send(c.sent);
      const shown = JSON.stringify(c.sent);
      const want = c.want;
      if ('route' in want) {
        if (got.status !== 200 || got.route !== want.route || got.appPath !== want.appPath) {
          wrong.push(
            `${shown}: want 200 by route ${want.route} with the app receiving ${JSON.stringify(want.appPath)}, got ${got.status} by route ${got.route} with ${JSON.stringify(got.appPath)} (${got.body.slice(0, 200)})`,
          );
        }
      } else {
        if (got.status !== want.status)
          wrong.push(`${shown}: want ${want.status}, got ${got.status}: ${got.body}`);
        if (app.seen.length + h2.seen.length !== before) wrong.push(`${shown}: want nothing at the app`);
      }
    }
    assert.deepEqual(wrong, [], `${what}: want every path routed and forwarded as normalized`);
  };

  before(async () => {
    ports = { http1: await bed.listen(app.server), h2: await bed.listen(h2.server) };
    mesh = await bed.startMesh({
      yaml: config(ports),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
      wantCleanExit: true,
    });
  });

  after(async () => {
    session?.destroy();
    await bed.close();
  });

  // The MeshConfig changes in order: BASE (the default), MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, NONE.

  it('BASE (default), HTTP/1: dot segments and escaped unreserved characters normalized; //, %2F kept; %00 and %zz refused', async () => {
    await check('BASE over HTTP/1', viaHttp1, [
      { sent: '/public/./a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/%70ublic/a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/public/../admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public/a/%2E%2e/../../admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/../../admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public/a/..', want: { status: 200, route: 'public', appPath: '/public/' } },
      {
        sent: '/public/a?next=/../admin',
        want: { status: 200, route: 'public', appPath: '/public/a?next=/../admin' },
      },
      { sent: '/public/..%2Fadmin', want: { status: 200, route: 'public', appPath: '/public/..%2Fadmin' } },
      { sent: '//public/a', want: { status: 404 } },
      { sent: '/public/%00', want: { status: 400 } },
      { sent: '/public/%zz', want: { status: 400 } },
    ]);
  });

  it('BASE: the refusal says why, with flag DPE, and reaches no app', async () => {
    const r = await curl(['--path-as-is', '-H', 'Host: web.shop:8080', `http://${CLIENT}:8080/public/%00`]);
    assert.equal(r.status, 400, `want 400 for %00, got ${r.status}: ${r.body}`);
    assert.match(r.headers, /x-alder-response-flags: DPE/i, 'want flag DPE on the refusal');
    assert.equal(
      r.body,
      'request refused: the path "/public/%00" holds %00, an encoded NUL, which no path may carry (MeshConfig pathNormalization BASE)\n',
      'want the reason in words',
    );
  });

  it('BASE, HTTP/2: the same rules, and what only HTTP/2 can bring (\\, a bad escape) normalized or refused', async () => {
    await check('BASE over HTTP/2', viaH2, [
      { sent: '/public/./a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/%70ublic/a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/public/../admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public\\..\\admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public/%zz', want: { status: 400 } },
      { sent: '/public/a#frag', want: { status: 400 } },
    ]);
  });

  it('BASE, inbound: a request from outside the mesh to the inbound port reaches the app normalized', async () => {
    const { reply } = await rawExchange(
      WEB,
      8080,
      'GET /public/%2e%2E/admin?x=/./ HTTP/1.1\r\nHost: web.shop:8080\r\nConnection: close\r\n\r\n',
    );
    assert.match(
      reply,
      /^HTTP\/1\.1 200 /,
      `want 200 from the app, got ${JSON.stringify(reply.slice(0, 300))}`,
    );
    const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
    assert.equal(
      (JSON.parse(body) as { path: string }).path,
      '/admin?x=/./',
      'want the app behind the inbound port to receive the normalized path, query as sent',
    );
  });

  it('MERGE_SLASHES: // merged into / (after dot segments), %2F still kept', async () => {
    await applyConfig(mesh, config(ports, 'MERGE_SLASHES'));
    await check('MERGE_SLASHES over HTTP/1', viaHttp1, [
      { sent: '//public/a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/public//a//', want: { status: 200, route: 'public', appPath: '/public/a/' } },
      { sent: '/public//../admin', want: { status: 200, route: 'public', appPath: '/public/admin' } },
      { sent: '/public/a%2F%2Fb', want: { status: 200, route: 'public', appPath: '/public/a%2F%2Fb' } },
      { sent: '/x/..%2Fadmin', want: { status: 404 } },
    ]);
    await check('MERGE_SLASHES over HTTP/2', viaH2, [
      { sent: '//admin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public/\\\\a', want: { status: 200, route: 'public', appPath: '/public/a' } },
    ]);
  });

  it('DECODE_AND_MERGE_SLASHES: %2F and %5C decoded to /, then normalized and merged', async () => {
    await applyConfig(mesh, config(ports, 'DECODE_AND_MERGE_SLASHES'));
    await check('DECODE_AND_MERGE_SLASHES over HTTP/1', viaHttp1, [
      { sent: '/x/..%2Fadmin', want: { status: 200, route: 'admin', appPath: '/admin' } },
      { sent: '/public%2Fa', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/public%5ca%5C%2f%2Fb', want: { status: 200, route: 'public', appPath: '/public/a/b' } },
      { sent: '//public/a', want: { status: 200, route: 'public', appPath: '/public/a' } },
      { sent: '/public/a?x=%2F', want: { status: 200, route: 'public', appPath: '/public/a?x=%2F' } },
    ]);
    await check('DECODE_AND_MERGE_SLASHES over HTTP/2', viaH2, [
      { sent: '/public%2F..%2F..%5Cadmin', want: { status: 200, route: 'admin', appPath: '/admin' } },
    ]);
  });

  it('NONE: the path is routed and forwarded exactly as sent', async () => {
    await applyConfig(mesh, config(ports, 'NONE'));
    await check('NONE over HTTP/1', viaHttp1, [
      { sent: '/public/./a', want: { status: 200, route: 'public', appPath: '/public/./a' } },
      { sent: '/public/../admin', want: { status: 200, route: 'public', appPath: '/public/../admin' } },
      { sent: '/public/%00', want: { status: 200, route: 'public', appPath: '/public/%00' } },
      { sent: '/%70ublic/a', want: { status: 404 } },
    ]);
    await check('NONE over HTTP/2', viaH2, [
      { sent: '/public\\..\\admin', want: { status: 200, route: 'public', appPath: '/public\\..\\admin' } },
    ]);
  });
});
