// No connection the proxy accepts can be held for ever, through two real proxies: a peer that sends
// one TLS byte and closes is let go at once, a stalled ClientHello meets the handshake timeout, a
// trickled request head (HTTP/1) or connection preface (HTTP/2) meets request_headers_timeout, an
// HTTP/2 client that vanishes without GOAWAY leaves nothing in CLOSE-WAIT, and a client that goes
// mid-request releases both proxies' connections down to the app. Sockets are counted in /proc.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import {
  createServer as createH2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  h2cClient,
  holdOpen,
  inWaves,
  oneByteAndClose,
  PARTIAL_CLIENT_HELLO,
  trickle,
} from './connection-kit.ts';
import { frame, grpcCall, within } from './grpc-kit.ts';
import { pollUntil, type RunningProxy } from './harness.ts';
import { type Mesh, TestBed } from './mesh-fixture.ts';
import {
  peerAuthentication,
  service,
  sidecarEgress,
  sidecarIngress,
  sidecarPort,
  workloadEntry,
  yamlDocs,
} from './mesh-yaml.ts';
import { countSockets, tcpSocketsOf } from './socket-census.ts';

const CLIENT = '127.0.71.1';
const WEB = '127.0.71.2';
const OPEN = '127.0.71.3';
const GREETER = '127.0.71.4';
const HANDSHAKE_TIMEOUT_MS = 5_000;
const HEADERS_TIMEOUT_MS = 2_000;

/** The HTTP app: `/hold` is taken and never answered (its socket's close is recorded), the rest 200. */
interface HoldingApp {
  server: Server;
  /** When the last held request arrived, and when its connection from the proxy closed. */
  held: { arrived: number | undefined; closed: number | undefined };
}

function holdingApp(): HoldingApp {
  const held: HoldingApp['held'] = { arrived: undefined, closed: undefined };
  const server = createHttpServer((req: IncomingMessage, res) => {
    if (req.url === '/hold') {
      held.arrived = performance.now();
      held.closed = undefined;
      req.socket.once('close', () => {
        held.closed = performance.now();
      });
      return;
    }
    req.resume();
    res.end('ok');
  });
  return { server, held };
}

/** The gRPC app: `/shop.Greeter/Hold` is never answered (its stream's close is recorded), the rest greet. */
function greeterApp(): { server: Http2Server; held: HoldingApp['held'] } {
  const held: HoldingApp['held'] = { arrived: undefined, closed: undefined };
  const server = createH2Server();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === '/shop.Greeter/Hold') {
      held.arrived = performance.now();
      held.closed = undefined;
      stream.once('close', () => {
        held.closed = performance.now();
      });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.resume();
    stream.on('end', () => stream.end(frame('hello')));
  });
  return { server, held };
}

function config(web: number, greeter: number): string {
  const http = sidecarPort(8080, 'HTTP');
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    service('open', 'shop', [{ name: 'http', port: 8080 }]),
    service('greeter', 'shop', [{ name: 'grpc', port: 9090 }]),
    workloadEntry('client', 'shop', CLIENT),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('open', 'shop', OPEN),
    workloadEntry('greeter', 'shop', GREETER),
    sidecarIngress('web', 'shop', [{ port: http, appPort: web }]),
    sidecarIngress('open', 'shop', [{ port: http, appPort: web }]),
    peerAuthentication('open', 'shop', 'PERMISSIVE'),
    sidecarIngress('greeter', 'shop', [{ port: sidecarPort(9090, 'GRPC'), appPort: greeter }]),
    sidecarEgress('client', 'shop', [{ port: { number: 9090 }, bind: CLIENT, hosts: ['./*'] }]),
  );
}

/** The proxy's sockets on `local` in CLOSE-WAIT, polled to zero within `ms`. */
function noCloseWait(proxy: RunningProxy, local: string, ms: number): Promise<void> {
  const pid = proxy.process.pid as number;
  return pollUntil(
    `no socket of the proxy on ${local} in CLOSE-WAIT`,
    ms,
    () => countSockets(pid, 'CLOSE_WAIT', local) === 0,
    () => `${countSockets(pid, 'CLOSE_WAIT', local)} still in CLOSE-WAIT`,
  );
}

describe('proxy: connections are bounded in time', () => {
  const bed = new TestBed('connections');
  const web = holdingApp();
  const greeter = greeterApp();
  let mesh: Mesh;

  before(async () => {
    mesh = await bed.startMesh({
      yaml: config(await bed.listen(web.server), await bed.listen(greeter.server)),
      workloads: [
        { name: 'web' },
        { name: 'open' },
        { name: 'greeter' },
        { name: 'client', outboundProxy: `${CLIENT}:15001` },
      ],
      launch: {
        env: {
          ALDER_PROXY_HANDSHAKE_TIMEOUT: `${HANDSHAKE_TIMEOUT_MS}ms`,
          ALDER_PROXY_REQUEST_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`,
        },
      },
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  const mtlsPorts = [
    { name: 'a STRICT inbound port', proxy: 'web', host: WEB, port: 8080 },
    { name: 'a PERMISSIVE inbound port', proxy: 'open', host: OPEN, port: 8080 },
    { name: 'the tunnel port', proxy: 'web', host: WEB, port: 15008 },
  ];

  for (const p of mtlsPorts) {
    it(`one TLS byte and close: 1,000 such connections to ${p.name} leave nothing in CLOSE-WAIT`, async () => {
      await inWaves(1000, 100, () => oneByteAndClose(p.host, p.port));
      // Well inside the handshake timeout: the half-close alone must have let them go.
      await noCloseWait(mesh.proxy(p.proxy), `${p.host}:${p.port}`, 1_500);
    });
  }

  it('stalled handshakes: a partial ClientHello is closed by the handshake timeout on every mTLS port', async () => {
    const closedAfter = await Promise.all(
      mtlsPorts.map(async (p) => {
        const held = await holdOpen(p.host, p.port, PARTIAL_CLIENT_HELLO);
        return { name: p.name, ms: await held.closed(HANDSHAKE_TIMEOUT_MS + 3_000) };
      }),
    );
    for (const { name, ms } of closedAfter) {
      assert.ok(
        ms >= HANDSHAKE_TIMEOUT_MS - 250,
        `${name}: want the stalled handshake kept until the ${HANDSHAKE_TIMEOUT_MS}ms timeout, closed after ${Math.round(ms)}ms`,
      );
    }
  });

  const slowHeads = [
    {
      name: 'the forward proxy (outbound)',
      host: CLIENT,
      port: 15001,
      head: 'GET http://web.shop:8080/ HTTP/1.1\r\nHost: web.shop:8080\r\nUser-Agent: slow\r\n\r\n',
    },
    {
      name: 'a PERMISSIVE inbound port in plaintext',
      host: OPEN,
      port: 8080,
      head: 'GET / HTTP/1.1\r\nHost: open.shop:8080\r\nUser-Agent: slow\r\n\r\n',
    },
  ];
  for (const c of slowHeads) {
    it(`slow request heads: a head trickled to ${c.name} gets 408 and a close at request_headers_timeout`, async () => {
      const held = await trickle(c.host, c.port, c.head, 100);
      const ms = await held.closed(HEADERS_TIMEOUT_MS + 2_000);
      assert.match(
        held.reply(),
        /^HTTP\/1\.1 408 /,
        `want 408 for a head still coming after ${HEADERS_TIMEOUT_MS}ms`,
      );
      assert.ok(
        ms >= HEADERS_TIMEOUT_MS - 250,
        `want the head given ${HEADERS_TIMEOUT_MS}ms, closed after ${ms}ms`,
      );
    });
  }

  it('slow request heads: on keep-alive the next head is timed from the end of the previous response', async () => {
    const socket = connect({ host: CLIENT, port: 15001 });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      reply += d;
    });
    const closed = once(socket, 'close');
    socket.write('GET http://web.shop:8080/first HTTP/1.1\r\nHost: web.shop:8080\r\n\r\n');
    await pollUntil(
      'the first response',
      5_000,
      () => reply.includes('\r\n\r\nok'),
      () => JSON.stringify(reply),
    );
    const answeredAt = performance.now();
    // Half a timeout of silence, then the next head, a byte every 100 ms: never whole in time.
    const next = 'GET http://web.shop:8080/second HTTP/1.1\r\nHost: web.shop:8080\r\n\r\n';
    const startAfter = setTimeout(() => {
      let at = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || at >= next.length) clearInterval(timer);
        else socket.write(next[at++] as string);
      }, 100);
    }, HEADERS_TIMEOUT_MS / 2);
    await within(closed, 'the keep-alive connection closed', HEADERS_TIMEOUT_MS + 3_000);
    clearTimeout(startAfter);
    const ms = performance.now() - answeredAt;
    assert.match(reply, /HTTP\/1\.1 408 /, `want 408 for the second head, got ${JSON.stringify(reply)}`);
    assert.ok(
      ms >= HEADERS_TIMEOUT_MS - 250 && ms < HEADERS_TIMEOUT_MS + 1_500,
      `want the close ${HEADERS_TIMEOUT_MS}ms after the first response, it came after ${Math.round(ms)}ms`,
    );
  });

  it('slow request heads: an idle keep-alive connection is closed without a reply', async () => {
    const held = await holdOpen(
      CLIENT,
      15001,
      'GET http://web.shop:8080/ HTTP/1.1\r\nHost: web.shop:8080\r\n\r\n',
    );
    await held.closed(HEADERS_TIMEOUT_MS + 3_000);
    const replies = [...held.reply().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    assert.deepEqual(
      replies,
      ['200'],
      'want the one answer and then a quiet close, no 408 to a request never begun',
    );
  });

  it('slow HTTP/2 prefaces: a stalled connection preface on an h2c egress port is closed at request_headers_timeout', async () => {
    const held = await holdOpen(CLIENT, 9090, 'PRI * HTTP/2.0\r\n');
    const ms = await held.closed(HEADERS_TIMEOUT_MS + 3_000);
    assert.ok(
      ms >= HEADERS_TIMEOUT_MS - 250,
      `want the preface given ${HEADERS_TIMEOUT_MS}ms, closed after ${ms}ms`,
    );
  });

  it('abandoned HTTP/2: 100 h2c clients that vanish after a call without GOAWAY leave nothing in CLOSE-WAIT', async () => {
    await inWaves(100, 25, async (i) => {
      const { session, socket } = h2cClient(CLIENT, 9090);
      const result = await within(
        grpcCall(session, 'greeter.shop:9090', '/shop.Greeter/SayHello', [`n${i}`]),
        `call ${i}`,
      );
      assert.equal(result.trailers['grpc-status'], '0', `call ${i}: want grpc-status 0`);
      socket.destroy();
    });
    await noCloseWait(mesh.proxy('client'), `${CLIENT}:9090`, 2_000);
  });

  it('clients gone mid-request: HTTP/1 through two proxies, the app connection is closed within about a second', async () => {
    const client = mesh.proxy('client');
    const socket = connect({ host: CLIENT, port: 15001 });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const clientEnd = `${socket.localAddress}:${socket.localPort}`;
    socket.write('GET http://web.shop:8080/hold HTTP/1.1\r\nHost: web.shop:8080\r\n\r\n');
    await pollUntil('the held request at the app', 5_000, () => web.held.arrived !== undefined);
    const goneAt = performance.now();
    socket.destroy(); // a FIN, as a client process that exits or gives up sends
    await pollUntil(
      "the server proxy's connection to the app closed",
      2_500,
      () => web.held.closed !== undefined,
    );
    const ms = (web.held.closed as number) - goneAt;
    assert.ok(
      ms < 2_000,
      `want the app connection closed within ~1s of the client going, took ${Math.round(ms)}ms`,
    );
    const left = tcpSocketsOf(client.process.pid as number).filter((s) => s.remote === clientEnd);
    assert.deepEqual(left, [], "want the client proxy to hold nothing of the gone client's connection");
    web.held.arrived = undefined;
  });

  it('clients gone mid-request: an HTTP/2 client that vanishes resets its stream at the app within a second', async () => {
    const { session, socket } = h2cClient(CLIENT, 9090);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/shop.Greeter/Hold',
      ':authority': 'greeter.shop:9090',
      'content-type': 'application/grpc',
    });
    stream.on('error', () => undefined);
    stream.end(frame('wait'));
    await pollUntil('the held call at the app', 5_000, () => greeter.held.arrived !== undefined);
    const goneAt = performance.now();
    socket.destroy();
    await pollUntil('the held stream at the app closed', 2_500, () => greeter.held.closed !== undefined);
    const ms = (greeter.held.closed as number) - goneAt;
    assert.ok(
      ms < 1_000,
      `want the app's stream reset within 1s of the client going, took ${Math.round(ms)}ms`,
    );
  });
});
