// Method and header hygiene through two real proxies with mTLS, HTTP/1 and HTTP/2: methods outside
// IANA's registry refused (501), header names with `_` under each MeshConfig action, the request
// headers an app must not receive (Connection-named, Proxy-Authorization, forged x-forwarded-*), and
// the mesh's own response headers an app must not forge — while a peer proxy's own flags still pass.

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  createServer as createH2Server,
  type IncomingHttpHeaders as H2Headers,
  type Http2Server,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { grpcCall, h2Request, within } from './grpc-kit.ts';
import { freePort } from './harness.ts';
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

const CLIENT = '127.0.50.1';
const WEB = '127.0.50.2';
const FORGED = { 'x-alder-response-flags': 'UF', 'x-alder-foo': '1' };

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** HTTP/1 app: /forge answers with forged mesh headers, /trailers with a chunked body and trailers; else echoes. */
function http1App(): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
      seen.push(entry);
      if (entry.url === '/forge') {
        res.writeHead(200, { ...FORGED, 'x-app': 'web', 'content-length': 2 });
        res.end('ok');
        return;
      }
      if (entry.url === '/trailers') {
        res.writeHead(200, { trailer: 'x-sum, x-alder-response-flags' });
        res.write('part');
        res.addTrailers({ 'x-sum': '5', 'x-alder-response-flags': 'UF' });
        res.end();
        return;
      }
      const body = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return { server, seen };
}

/** HTTP/2 app: echoes its request; /forge and the gRPC method Forge answer with forged mesh headers. */
function h2App(): { server: Http2Server; seen: H2Headers[] } {
  const seen: H2Headers[] = [];
  const server = createH2Server();
  server.on('stream', (stream: ServerHttp2Stream, headers: H2Headers) => {
    stream.on('error', () => undefined);
    seen.push(headers);
    stream.resume();
    stream.on('end', () => {
      const path = headers[':path'];
      if (path === '/shop.Greeter/Forge') {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', ...FORGED },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', ...FORGED }));
        stream.end();
        return;
      }
      const extra: OutgoingHttpHeaders = path === '/forge' ? FORGED : {};
      stream.respond({ ':status': 200, 'content-type': 'application/json', ...extra });
      stream.end(JSON.stringify(headers));
    });
  });
  return { server, seen };
}

/**
 * client (CLIENT) → web (WEB): web.shop:8080 (HTTP/1 app), greeter.shop:9090 (HTTP/2 app), broken
 * .shop:8083 (web's proxy, no app behind it); ext.example.com:8081 is the HTTP/1 app without a proxy.
 */
function config(ports: { http1: number; h2: number; closed: number }, mesh?: string): string {
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    service('greeter', 'shop', [{ name: 'grpc', port: 9090 }], 'web'),
    service('broken', 'shop', [{ name: 'http', port: 8083 }], 'web'),
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec:
  hosts: [ext.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 8081, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${ports.http1}}}]
`,
    workloadEntry('web', 'shop', WEB),
    workloadEntry('client', 'shop', CLIENT),
    peerAuthentication('web', 'shop', 'PERMISSIVE'),
    sidecarIngress('web', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), appPort: ports.http1 },
      { port: sidecarPort(9090, 'GRPC'), appPort: ports.h2 },
      { port: sidecarPort(8083, 'HTTP'), appPort: ports.closed },
    ]),
    sidecarEgress('client', 'shop', [
      { port: sidecarPort(8080, 'HTTP'), bind: CLIENT, hosts: ['./*'] },
      { port: sidecarPort(9090, 'GRPC'), bind: CLIENT, hosts: ['./*'] },
    ]),
    ...(mesh === undefined ? [] : [meshConfig(mesh)]),
  );
}

/** A plain HTTP/2 request, failed after 10 s rather than hung. */
function h2Within(session: ClientHttp2Session, headers: OutgoingHttpHeaders) {
  const what = `the HTTP/2 response to ${String(headers[':method'] ?? 'GET')} ${String(headers[':path'])}`;
  return within(h2Request(session, headers), what);
}

function meshHeadersIn(text: string): string[] {
  return text.split('\r\n').filter((l) => /^x-alder-/i.test(l));
}

describe('proxy: method and header hygiene', () => {
  const bed = new TestBed('hygiene');
  const app = http1App();
  const h2 = h2App();
  let ports: { http1: number; h2: number; closed: number };
  let mesh: Mesh;
  const h2c = () => {
    const s = connect(`http://${CLIENT}:9090`);
    s.on('error', () => undefined);
    bed.defer(() => s.destroy());
    return s;
  };
  /** Rewrites the config with `meshSpec` as the MeshConfig and waits until both proxies applied it. */
  const reconfigure = (meshSpec: string) => applyConfig(mesh, config(ports, meshSpec));

  before(async () => {
    ports = {
      http1: await bed.listen(app.server),
      h2: await bed.listen(h2.server),
      closed: await freePort(),
    };
    mesh = await bed.startMesh({
      yaml: config(ports),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  describe('methods', () => {
    const cases = [
      { method: 'GET', want: 200 },
      { method: 'PROPFIND', want: 200 },
      { method: 'QUERY', want: 200 },
      { method: 'GETX', want: 501, says: /method "GETX" is not in the IANA HTTP Method Registry/ },
      { method: 'get', want: 501, says: /method "get" .*did you mean "GET"\?.*http\.extensionMethods/ },
      { method: 'Get', want: 501, says: /method "Get" .*did you mean "GET"\?/ },
      { method: 'PURGE', want: 501, says: /list it in MeshConfig http\.extensionMethods to allow it/ },
      {
        method: 'A'.repeat(8000),
        want: 501,
        says: /method "A{32}" is longer than 32 bytes; raise MeshConfig/,
      },
    ];
    for (const [where, host] of [
      ['egress port', CLIENT],
      ['inbound port (plaintext, PERMISSIVE)', WEB],
    ] as const) {
      it(`methods: each method to the ${where} is forwarded only when registered, in its own case`, async () => {
        const wrong: string[] = [];
        for (const c of cases) {
          const before = app.seen.length;
          const request = `${c.method} /m HTTP/1.1\r\nHost: web.shop:8080\r\nConnection: close\r\n\r\n`;
          const { reply } = await rawExchange(host, 8080, request, { timeoutMs: 5000 });
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
          const shown = c.method.slice(0, 12);
          if (status !== c.want) wrong.push(`${shown}: want ${c.want}, got ${status || 'no answer'}`);
          if (c.want === 200) continue;
          if (!/\r\nx-alder-response-flags: DPE\r\n/i.test(reply)) wrong.push(`${shown}: want flag DPE`);
          if (c.says !== undefined && !c.says.test(reply)) wrong.push(`${shown}: want the reason ${c.says}`);
          if (app.seen.length !== before) wrong.push(`${shown}: want nothing at the app`);
        }
        assert.deepEqual(wrong, [], `want registered methods forwarded and the others refused (${where})`);
      });
    }

    it('methods: curl -X GETX through HTTP_PROXY sees 501 and why, in words', async () => {
      const r = await curl(['-x', `http://${CLIENT}:15001`, '-X', 'GETX', 'http://web.shop:8080/']);
      assert.equal(r.status, 501, `want 501, got ${r.status}: ${r.body}`);
      assert.match(r.headers, /x-alder-response-flags: DPE/i);
      assert.equal(
        r.body,
        'request refused: method "GETX" is not in the IANA HTTP Method Registry; list it in MeshConfig http.extensionMethods to allow it\n',
      );
    });

    it('methods: HTTP/2 :method follows the same rule (501 for GETX and get, GET passes)', async () => {
      const session = h2c();
      const ask = (method: string) =>
        h2Within(session, { ':method': method, ':path': '/echo', ':authority': 'greeter.shop:9090' });
      const ok = await ask('GET');
      assert.equal(ok.status, 200, `want GET forwarded, got ${ok.status}: ${ok.body}`);
      for (const method of ['GETX', 'get']) {
        const before = h2.seen.length;
        const r = await ask(method);
        assert.equal(r.status, 501, `${method}: want 501, got ${r.status}: ${r.body}`);
        assert.equal(r.headers['x-alder-response-flags'], 'DPE', `${method}: want flag DPE`);
        assert.match(r.body, new RegExp(`method "${method}" is not in the IANA HTTP Method Registry`));
        assert.equal(h2.seen.length, before, `${method}: want nothing at the app`);
      }
    });
  });

  describe('request headers', () => {
    it('request: Connection-named headers, Proxy-Authorization and forged forwarding headers do not reach the app', async () => {
      const r = await curl([
        ...['-H', 'Host: web.shop:8080', '-H', 'Connection: x-secret', '-H', 'X-Secret: 1'],
        ...['-H', 'Proxy-Authorization: Basic Zm9vOmJhcg==', '-H', 'X-Forwarded-For: 203.0.113.9'],
        ...['-H', 'X-Forwarded-Proto: https', `http://${CLIENT}:8080/headers`],
      ]);
      assert.equal(r.status, 200, r.body);
      const seen = (JSON.parse(r.body) as Seen).headers;
      assert.equal(seen['x-secret'], undefined, 'want the header Connection names dropped');
      assert.equal(seen['proxy-authorization'], undefined, 'want Proxy-Authorization kept from the app');
      assert.equal(
        seen['x-forwarded-for'],
        `203.0.113.9, ${CLIENT}`,
        "want the caller's XFF appended with the app's workload address",
      );
      assert.equal(
        seen['x-forwarded-proto'],
        'http',
        'want x-forwarded-proto from the connection, not the caller',
      );
    });

    it('request: curl with proxy credentials (HTTP_PROXY=http://user:pw@…) keeps them and Proxy-Connection from the app', async () => {
      const r = await curl(['-x', `http://user:pw@${CLIENT}:15001`, 'http://web.shop:8080/via-proxy']);
      assert.equal(r.status, 200, r.body);
      const seen = (JSON.parse(r.body) as Seen).headers;
      assert.equal(seen['proxy-authorization'], undefined, 'want no Proxy-Authorization at the app');
      assert.equal(seen['proxy-connection'], undefined, 'want no Proxy-Connection at the app');
    });

    it('request: a caller outside the mesh (plaintext to the inbound port) gets its XFF appended to, its proto replaced', async () => {
      const { reply } = await rawExchange(
        WEB,
        8080,
        'GET /edge HTTP/1.1\r\nHost: web.shop:8080\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n',
      );
      const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
      const seen = (JSON.parse(body) as Seen).headers;
      // The caller is on loopback: Envoy records this host's own address instead, and so does Alder.
      assert.equal(seen['x-forwarded-for'], `198.51.100.1, ${WEB}`);
      assert.equal(seen['x-forwarded-proto'], 'http');
    });

    it('request: HTTP/2 drops Proxy-Authorization and sets x-forwarded-for / -proto the same way', async () => {
      const r = await h2Within(h2c(), {
        ':path': '/echo',
        ':authority': 'greeter.shop:9090',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
      });
      assert.equal(r.status, 200, r.body);
      const seen = JSON.parse(r.body) as H2Headers;
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen['x-forwarded-for'], `203.0.113.9, ${CLIENT}`);
      assert.equal(seen['x-forwarded-proto'], 'http');
    });

    it('request: a header name with an underscore is refused by default (HTTP/1 and HTTP/2), naming the setting', async () => {
      const before = app.seen.length;
      const r = await curl(['-H', 'Host: web.shop:8080', '-H', 'X_Api_Key: k', `http://${CLIENT}:8080/u`]);
      assert.equal(r.status, 400, `want 400, got ${r.status}: ${r.body}`);
      assert.match(r.headers, /x-alder-response-flags: DPE/i);
      assert.match(r.body, /http\.headersWithUnderscoresAction/);
      assert.equal(app.seen.length, before, 'want nothing at the app');
      const h = await h2Within(h2c(), {
        ':path': '/echo',
        ':authority': 'greeter.shop:9090',
        x_api_key: 'k',
      });
      assert.equal(h.status, 400, `HTTP/2: want 400, got ${h.status}: ${h.body}`);
      assert.match(h.body, /header name "x_api_key" holds an underscore.*DROP_HEADER or ALLOW/);
    });
  });

  describe('response headers', () => {
    it("response: an app's x-alder-* never reaches the client (HTTP/1, through its proxy and without one)", async () => {
      const viaPeer = await curl(['-H', 'Host: web.shop:8080', `http://${CLIENT}:8080/forge`]);
      assert.equal(viaPeer.status, 200, viaPeer.body);
      assert.match(viaPeer.headers, /x-app: web/i, "want the app's other headers");
      assert.deepEqual(meshHeadersIn(viaPeer.headers), [], 'want no x-alder-* from an app behind a proxy');
      const direct = await curl(['-x', `http://${CLIENT}:15001`, 'http://ext.example.com:8081/forge']);
      assert.equal(direct.status, 200, direct.body);
      assert.deepEqual(meshHeadersIn(direct.headers), [], 'want no x-alder-* from an app without a proxy');
    });

    it("response: an app's x-alder-* trailers are dropped, its other trailers pass", async () => {
      const { reply } = await rawExchange(
        CLIENT,
        8080,
        'GET /trailers HTTP/1.1\r\nHost: web.shop:8080\r\nTE: trailers\r\nConnection: close\r\n\r\n',
      );
      assert.match(reply, /\r\n0\r\nx-sum: 5\r\n/i, `want the app's trailer, got ${JSON.stringify(reply)}`);
      assert.deepEqual(meshHeadersIn(reply), [], 'want no x-alder-* trailer');
    });

    it("response: the server-side proxy's own reply keeps its flag through the client's proxy", async () => {
      const r = await curl(['-x', `http://${CLIENT}:15001`, 'http://broken.shop:8083/']);
      assert.equal(r.status, 503, `want 503 from web's proxy, got ${r.status}: ${r.body}`);
      assert.match(r.headers, /x-alder-response-flags: UF/i, 'want the peer proxy flag kept');
    });

    it("response: an h2 app's and a gRPC app's x-alder-* never reach the caller, in headers or trailers", async () => {
      const session = h2c();
      const plain = await h2Within(session, { ':path': '/forge', ':authority': 'greeter.shop:9090' });
      assert.equal(plain.status, 200, plain.body);
      assert.deepEqual(
        Object.keys(plain.headers).filter((n) => n.startsWith('x-alder-')),
        [],
        'want no x-alder-* from an HTTP/2 app',
      );
      const grpc = await within(
        grpcCall(session, 'greeter.shop:9090', '/shop.Greeter/Forge', ['hi']),
        'gRPC Forge',
      );
      const names = [...Object.keys(grpc.headers), ...Object.keys(grpc.trailers)];
      assert.equal(
        grpc.trailers['grpc-status'],
        '0',
        `want the call's own status, got ${JSON.stringify(grpc)}`,
      );
      assert.deepEqual(
        names.filter((n) => n.startsWith('x-alder-')),
        [],
        'want no x-alder-* from a gRPC app',
      );
    });
  });

  // Each test below changes the MeshConfig: they run last, in order.
  describe('MeshConfig http settings', () => {
    it('meshconfig: DROP_HEADER drops underscore names, extensionMethods lets PURGE through, numTrustedProxies keeps the proto', async () => {
      await reconfigure(
        '{http: {headersWithUnderscoresAction: DROP_HEADER, extensionMethods: [PURGE], numTrustedProxies: 1}}',
      );
      const r = await curl([
        ...['-H', 'Host: web.shop:8080', '-H', 'X_Api_Key: k', '-H', 'X-Forwarded-Proto: https'],
        ...['-X', 'PURGE', `http://${CLIENT}:8080/purge`],
      ]);
      assert.equal(r.status, 200, `want PURGE forwarded, got ${r.status}: ${r.body}`);
      const seen = JSON.parse(r.body) as Seen;
      assert.equal(seen.method, 'PURGE');
      assert.equal(seen.headers.x_api_key, undefined, 'want the underscore name dropped');
      assert.equal(seen.headers['x-forwarded-proto'], 'https', "want a trusted proxy's proto kept");
      const lower = await curl(['-H', 'Host: web.shop:8080', '-X', 'purge', `http://${CLIENT}:8080/`]);
      assert.equal(lower.status, 501, 'want the extension method matched case-sensitively');
      const h = await h2Within(h2c(), {
        ':path': '/echo',
        ':authority': 'greeter.shop:9090',
        x_api_key: 'k',
      });
      assert.equal(h.status, 200, h.body);
      assert.equal((JSON.parse(h.body) as H2Headers).x_api_key, undefined, 'HTTP/2: want it dropped too');
    });

    it('meshconfig: ALLOW passes underscore names to the app', async () => {
      await reconfigure('{http: {headersWithUnderscoresAction: ALLOW}}');
      const r = await curl([
        '-H',
        'Host: web.shop:8080',
        '-H',
        'X_Api_Key: k',
        `http://${CLIENT}:8080/allow`,
      ]);
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as Seen).headers.x_api_key, 'k');
    });
  });
});
