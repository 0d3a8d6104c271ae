// HTTP/2 and gRPC through two real proxies with mTLS: h2c from the client to proxy A's egress port,
// one multiplexed h2 session (ALPN h2) from A to B, h2c from B to the app. gRPC framing is written by
// hand on both ends (5-byte length prefix, grpc-status in trailers); no gRPC library is involved.

import assert from 'node:assert/strict';
import {
  connect,
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { deframer, frame, grpcCall, grpcResult, grpcStream, h2Request, within } from './grpc-kit.ts';
import type { RunningProxy } from './harness.ts';
import { TestBed } from './mesh-fixture.ts';
import { service, sidecarEgress, sidecarIngress, sidecarPort, workloadEntry, yamlDocs } from './mesh-yaml.ts';

const CLIENT = '127.0.12.1';
const WEB = '127.0.11.2';
const DOWN = '127.0.11.3';
const XFCC = 'By=spiffe://cluster.local/ns/shop/sa/web;URI=spiffe://cluster.local/ns/shop/sa/client';

interface Seen {
  path: string;
  authority: string;
  headers: IncomingHttpHeaders;
}

/** The app: plain HTTP/2 echo on /echo*, a gRPC Greeter (SayHello, Fail, Chat bidi) otherwise. */
function h2App(): { server: Http2Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined); // the reset cases
    const path = String(headers[':path']);
    seen.push({ path, authority: String(headers[':authority']), headers });
    if (headers['content-type'] === 'application/grpc') return grpcMethod(stream, path);
    let bodyBytes = 0;
    stream.on('data', (d: Buffer) => {
      bodyBytes += d.length;
    });
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-app': 'web' });
      stream.end(JSON.stringify({ method: headers[':method'], path, bodyBytes, headers }));
    });
  });
  return { server, seen };
}

function grpcMethod(stream: ServerHttp2Stream, path: string): void {
  if (path === '/shop.Greeter/Refuse') {
    stream.close(constants.NGHTTP2_REFUSED_STREAM);
    return;
  }
  let trailers: OutgoingHttpHeaders = { 'grpc-status': '0' };
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  stream.on(
    'data',
    deframer((m) => {
      if (path === '/shop.Greeter/SayHello') stream.write(frame(`hello ${m}`));
      if (path === '/shop.Greeter/Chat') stream.write(frame(`pong ${m}`));
      if (path === '/shop.Greeter/Reset') {
        // Reset on the second message: by then the caller has seen the headers and the first reply.
        if (m === 'again') stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        else stream.write(frame('first'));
      }
      if (path === '/shop.Greeter/Fail')
        trailers = { 'grpc-status': '5', 'grpc-message': 'no greeting for you' };
    }),
  );
  stream.on('end', () => stream.end());
}

/** The mesh: client (CLIENT) → web (WEB) serving h2web and greeter; empty has no endpoints; down has nothing listening. */
function config(appPort: number): string {
  const egress = (number: number) => ({ port: { number }, bind: CLIENT, hosts: ['./*'] });
  return yamlDocs(
    service('h2web', 'shop', [{ name: 'http2-web', port: 9080 }], 'web'),
    service('greeter', 'shop', [{ name: 'grpc', port: 9090 }], 'web'),
    service('empty', 'shop', [{ name: 'grpc', port: 9091 }], 'nobody'),
    service('down', 'shop', [{ name: 'grpc', port: 9092 }]),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('down', 'shop', DOWN),
    workloadEntry('client', 'shop', CLIENT),
    sidecarIngress('web', 'shop', [
      { port: sidecarPort(9080, 'HTTP2'), appPort },
      { port: sidecarPort(9090, 'GRPC'), appPort },
    ]),
    sidecarEgress('client', 'shop', [egress(9080), egress(9090), egress(9091), egress(9092)]),
  );
}

describe('proxy: HTTP/2 and gRPC through two proxies with mTLS', () => {
  const bed = new TestBed('h2');
  const app = h2App();
  let web: RunningProxy;
  const h2c = (port: number) => {
    const s = connect(`http://${CLIENT}:${port}`);
    s.on('error', () => undefined);
    bed.defer(() => s.destroy());
    return s;
  };

  before(async () => {
    const mesh = await bed.startMesh({
      yaml: config(await bed.listen(app.server)),
      workloads: [{ name: 'web' }, { name: 'client' }],
      wantCleanExit: true,
    });
    web = mesh.proxy('web');
  });

  after(() => bed.close());

  it('h2: GET and POST reach the app over one mTLS h2 connection, with the identity set by the mesh', async () => {
    const session = h2c(9080);
    const authority = 'h2web.shop:9080';
    const get = await within(
      h2Request(session, {
        ':path': '/echo/hello?x=1',
        ':authority': authority,
        'x-forwarded-client-cert': 'By=forged',
        'x-alder-forged': '1',
      }),
      'the GET response',
    );
    assert.equal(get.status, 200, `want 200, got ${get.status}: ${get.body}`);
    assert.equal(get.headers['x-app'], 'web', "want the app's own response headers");
    const seen = JSON.parse(get.body) as { path: string; headers: IncomingHttpHeaders };
    assert.equal(seen.path, '/echo/hello?x=1', 'want the path as sent');
    assert.equal(seen.headers[':authority'], authority, 'want the :authority as sent');
    assert.equal(
      seen.headers['x-forwarded-client-cert'],
      XFCC,
      'want the XFCC from the mTLS peer, not the forged one',
    );
    assert.equal(seen.headers['x-alder-forged'], undefined, 'want callers unable to send mesh headers');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'want an x-request-id added');

    const body = Buffer.alloc(1_000_000, 'x');
    const posts = await within(
      Promise.all(
        [1, 2, 3, 4].map(() =>
          h2Request(session, { ':method': 'POST', ':path': '/echo/upload', ':authority': authority }, body),
        ),
      ),
      'four concurrent 1 MB POSTs',
    );
    for (const post of posts) {
      assert.equal(post.status, 200, post.body);
      assert.equal(
        (JSON.parse(post.body) as { bodyBytes: number }).bodyBytes,
        1_000_000,
        'want the whole body at the app',
      );
    }
    const stats = await (await fetch(`${web.admin}/stats`)).text();
    const connections = /alder_proxy_connections_total\{listener="inbound\|9080"\} (\d+)/.exec(stats)?.[1];
    assert.equal(
      connections,
      '1',
      `want 5 streams on one A→B connection (ALPN h2), got ${connections} connections`,
    );
  });

  it('h2: on a port with one service, an authority the mesh does not know still reaches that service', async () => {
    const r = await within(
      h2Request(h2c(9080), { ':path': '/', ':authority': 'nowhere.example:9080' }),
      "the reply of the port's one service",
    );
    assert.equal(r.status, 200, `want 200 from h2web, got ${r.status}: ${r.body}`);
    const seen = JSON.parse(r.body) as { headers: IncomingHttpHeaders };
    assert.equal(seen.headers[':authority'], 'h2web.shop.svc.cluster.local:9080', "want the service's name");
  });

  it('grpc: a unary call returns its message and status 0 in trailers', async () => {
    const r = await within(
      grpcCall(h2c(9090), 'greeter.shop:9090', '/shop.Greeter/SayHello', ['ada']),
      'SayHello',
    );
    assert.equal(r.headers[':status'], 200);
    assert.deepEqual(r.messages, ['hello ada'], 'want the reply message');
    assert.equal(
      r.trailers['grpc-status'],
      '0',
      `want grpc-status 0 in trailers, got ${JSON.stringify(r.trailers)}`,
    );
    const seen = app.seen.findLast((s) => s.path === '/shop.Greeter/SayHello');
    assert.equal(seen?.headers.te, 'trailers', 'want te: trailers kept for gRPC');
    assert.equal(seen?.headers['x-forwarded-client-cert'], XFCC);
  });

  it('grpc: a non-OK status and message from the app reach the client in trailers', async () => {
    const r = await within(grpcCall(h2c(9090), 'greeter.shop:9090', '/shop.Greeter/Fail', ['bob']), 'Fail');
    assert.equal(r.trailers['grpc-status'], '5', `want grpc-status 5, got ${JSON.stringify(r.trailers)}`);
    assert.equal(r.trailers['grpc-message'], 'no greeting for you');
    assert.equal(r.headers['x-alder-response-flags'], undefined, "want the app's reply, not the proxy's");
  });

  it('grpc: a bidirectional stream interleaves messages both ways before the request ends', async () => {
    const stream = grpcStream(h2c(9090), 'greeter.shop:9090', '/shop.Greeter/Chat');
    const order: string[] = [];
    let sent = 1;
    stream.write(frame('1'));
    order.push('sent 1');
    // Each pong must arrive while the request is still open; only then is the next ping sent.
    const done = grpcResult(stream, (m) => {
      order.push(`got ${m}`);
      if (sent === 5) {
        stream.end();
        return;
      }
      sent++;
      stream.write(frame(String(sent)));
      order.push(`sent ${sent}`);
    });
    const r = await within(done, 'the bidi stream to finish');
    const want = [1, 2, 3, 4, 5].flatMap((n) => [`sent ${n}`, `got pong ${n}`]);
    assert.deepEqual(order, want, 'want each pong before the next ping');
    assert.equal(r.trailers['grpc-status'], '0', `want grpc-status 0, got ${JSON.stringify(r.trailers)}`);
  });

  it('grpc: an app reset after the response headers reaches the client as RST_STREAM with its code', async () => {
    const stream = grpcStream(h2c(9090), 'greeter.shop:9090', '/shop.Greeter/Reset');
    stream.write(frame('x'));
    const closed = grpcResult(stream, () => stream.write(frame('again'))).then(
      () => assert.fail('want the stream reset, got a normal end'),
      (err: Error) => err,
    );
    const err = await within(closed, 'the reset stream to close');
    assert.match(err.message, /NGHTTP2_ENHANCE_YOUR_CALM/, `want the app's reset code, got ${err.message}`);
    assert.equal(
      stream.rstCode,
      constants.NGHTTP2_ENHANCE_YOUR_CALM,
      `want the app's reset code, got ${stream.rstCode}`,
    );
  });

  it('grpc: an app reset before any response header gets grpc-status 14 and flag UC', async () => {
    const r = await within(
      grpcCall(h2c(9090), 'greeter.shop:9090', '/shop.Greeter/Refuse', ['x']),
      'the UC reply',
    );
    assert.equal(r.headers['grpc-status'], '14', `want grpc-status 14, got ${JSON.stringify(r)}`);
    assert.equal(r.headers['x-alder-response-flags'], 'UC');
  });

  const failures = [
    {
      name: 'no endpoints',
      port: 9091,
      authority: 'empty.shop:9091',
      flag: 'UH',
      message: /no healthy endpoint for empty\.shop:9091 \(0 of 0 ready\)/,
    },
    {
      name: 'an unreachable endpoint',
      port: 9092,
      authority: 'down.shop:9092',
      // Istio's default retry policy tries a refused connection again, so the reply says URX too.
      flag: 'UF,URX',
      message:
        /upstream connect error for down\.shop:9092: cluster outbound\|9092\|\|down\.shop\.svc\.cluster\.local: endpoint 127\.0\.11\.3:9092 \(workload down\): connection refused/,
    },
  ];
  for (const c of failures) {
    it(`grpc: a call to a service with ${c.name} gets grpc-status 14 and flag ${c.flag}`, async () => {
      const r = await within(
        grpcCall(h2c(c.port), c.authority, '/shop.Greeter/SayHello', ['x']),
        `the ${c.flag} reply`,
      );
      assert.equal(r.headers[':status'], 200, 'want HTTP 200, as gRPC errors are');
      const status = r.headers['grpc-status'] ?? r.trailers['grpc-status'];
      assert.equal(status, '14', `want grpc-status 14 (UNAVAILABLE), got ${JSON.stringify(r)}`);
      assert.equal(r.headers['x-alder-response-flags'], c.flag, `want flag ${c.flag}`);
      assert.match(decodeURIComponent(String(r.headers['grpc-message'])), c.message);
    });
  }
});
