// WebSocket and HTTP upgrades through two real proxies: ws clients (the library most Node apps use)
// through an egress port and the forward proxy (HTTP_PROXY), over HBONE and over direct mTLS, to a ws
// echo app; WebSocket over HTTP/2 (RFC 8441 extended CONNECT) from a node:http2 client, translated to
// an HTTP/1.1 upgrade for an HTTP/1 app and carried as extended CONNECT to an HTTP/2 app; upgrades
// the proxy refuses, each with a status and a reason; and a client that vanishes mid-WebSocket.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer as createH2Server,
  type Http2Server,
  connect as h2Connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { pollUntil, removeDir, tempDir } from './harness.ts';
import {
  curl,
  type Mesh,
  meshConfig,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';
import { tcpSocketsOf } from './socket-census.ts';
import { echoMany, echoManyRaw, opened, type WsApp, wsApp, wsClosed } from './ws-kit.ts';

const CLIENT = '127.0.87.1';
const WEB = '127.0.87.2';
const PLAIN_CLIENT = '127.0.88.1';
const PLAIN_WEB = '127.0.88.2';
const FORWARD_PROXY_PORT = 15001;
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';

/** An HTTP/2 app: echoes the bytes of each extended CONNECT stream; `enable` says whether it allows them. */
async function h2EchoApp(enable: boolean): Promise<{ server: Http2Server; port: number }> {
  const server = createH2Server(enable ? { settings: { enableConnectProtocol: true } } : {});
  server.on('stream', (stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': 200 });
      stream.end(`h2 ${headers[':path']}`);
      return;
    }
    stream.respond({ ':status': 200, 'x-app': 'h2echo' });
    stream.pipe(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A VirtualService for h2chat: /echo to itself (HTTP/2), /ws to chat, an HTTP/1 ws service. */
const H2CHAT_ROUTES = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: h2chat, namespace: shop}
spec:
  hosts: [h2chat]
  http:
  - match: [{uri: {prefix: /echo}}]
    route: [{destination: {host: h2chat}}]
  - match: [{uri: {prefix: /ws}}]
    route: [{destination: {host: chat, port: {number: 8080}}}]
`;

/** A VirtualService for chat: /flaky retried on resets and 5xx, and mirrored (to chat itself). */
const CHAT_ROUTES = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: chat, namespace: shop}
spec:
  hosts: [chat]
  http:
  - match: [{uri: {prefix: /flaky}}]
    route: [{destination: {host: chat}}]
    retries: {attempts: 3, retryOn: 'reset,5xx,connect-failure'}
    mirror: {host: chat}
  - route: [{destination: {host: chat}}]
`;

/**
 * client (egress ports 8080, 9080, 9081 and the forward proxy) → web: chat (HTTP/1 ws app, 8080),
 * h2chat (HTTP/2, 9080, whose /ws goes to chat), h2plain (an HTTP/2 app without extended CONNECT,
 * 9081), raw (TCP, 9000).
 */
function config(
  addresses: { client: string; web: string },
  apps: { ws: number; h2echo: number; h2plain: number },
  extra: string[] = [],
): string {
  const egress = (number: number) => ({ port: { number }, bind: addresses.client, hosts: ['./*'] });
  return yamlDocs(
    ...extra,
    service('chat', 'shop', [{ name: 'http', port: 8080 }], 'web'),
    service('h2chat', 'shop', [{ name: 'http2', port: 9080 }], 'web'),
    service('h2plain', 'shop', [{ name: 'http2', port: 9081 }], 'web'),
    service('raw', 'shop', [{ name: 'tcp', port: 9000 }], 'web'),
    workloadEntry('client', 'shop', addresses.client),
    workloadEntry('web', 'shop', addresses.web),
    sidecarIngress('web', 'shop', [
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: `127.0.0.1:${apps.ws}` },
      {
        port: { number: 9080, protocol: 'HTTP2', name: 'http2' },
        defaultEndpoint: `127.0.0.1:${apps.h2echo}`,
      },
      {
        port: { number: 9081, protocol: 'HTTP2', name: 'http2-plain' },
        defaultEndpoint: `127.0.0.1:${apps.h2plain}`,
      },
      { port: { number: 9000, protocol: 'TCP', name: 'tcp' }, defaultEndpoint: `127.0.0.1:${apps.ws}` },
    ]),
    sidecarEgress('client', 'shop', [egress(8080), egress(9080), egress(9081)]),
    H2CHAT_ROUTES,
    CHAT_ROUTES,
  );
}

/** A ws client to `url` whose connection goes to the egress port at `host:port`. */
function wsViaEgress(url: string, host: string, port: number): WebSocket {
  return new WebSocket(url, { createConnection: () => connect({ host, port }) });
}

/**
 * A ws client to `url` through a forward proxy, as an HTTP_PROXY-aware client sends it: the
 * connection to the proxy, the request target in absolute form.
 */
function wsViaForwardProxy(url: string, host: string, port: number): WebSocket {
  return new WebSocket(url, {
    createConnection: () => connect({ host, port }),
    finishRequest: (req) => {
      req.path = url.replace(/^ws:/, 'http:');
      req.end();
    },
  });
}

/** An h2c session to `host:port` that has the server's SETTINGS. */
async function h2cSession(host: string, port: number) {
  const session = h2Connect(`http://${host}:${port}`);
  session.on('error', () => undefined);
  const [settings] = (await once(session, 'remoteSettings')) as [{ enableConnectProtocol?: boolean }];
  return { session, settings };
}

/** Opens an extended CONNECT (`:protocol websocket`) stream and waits for its response head. */
async function extendedConnect(session: ReturnType<typeof h2Connect>, authority: string, path: string) {
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':authority': authority,
    ':path': path,
    'sec-websocket-version': '13',
  });
  stream.on('error', () => undefined);
  const timer = setTimeout(() => stream.close(), 5_000);
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  clearTimeout(timer);
  return { stream, headers };
}

/** Reads a stream's body to its end (5 s at most). */
async function bodyOf(stream: NodeJS.ReadableStream & { close?: () => void }): Promise<string> {
  let body = '';
  stream.on('data', (d: Buffer) => {
    body += d.toString();
  });
  const timer = setTimeout(() => stream.close?.(), 5_000);
  await once(stream, 'close');
  clearTimeout(timer);
  return body;
}

describe('proxy: WebSocket and HTTP upgrades through two proxies (HBONE)', () => {
  let dir: string;
  let app: WsApp;
  let h2echo: Awaited<ReturnType<typeof h2EchoApp>>;
  let h2plain: Awaited<ReturnType<typeof h2EchoApp>>;
  let mesh: Mesh;

  before(async () => {
    dir = tempDir('websocket');
    app = await wsApp();
    h2echo = await h2EchoApp(true);
    h2plain = await h2EchoApp(false);
    mesh = await startMesh({
      dir,
      yaml: config(
        { client: CLIENT, web: WEB },
        { ws: app.port, h2echo: h2echo.port, h2plain: h2plain.port },
      ),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:${FORWARD_PROXY_PORT}` }],
    });
  });

  after(async () => {
    await mesh.stop({ wantCleanExit: true });
    app.close();
    h2echo.server.close();
    h2plain.server.close();
    removeDir(dir);
  });

  it('ws through the egress port and HBONE: 1,000 echoes (text, binary, 1 MiB), then a clean close both ways', async () => {
    const before = app.upgrades.length;
    const ws = wsViaEgress('ws://chat.shop:8080/ws', CLIENT, 8080);
    await opened(ws, 5_000);
    await echoMany(ws, 1000, 60_000);
    const seen = app.upgrades[before] as IncomingHttpHeaders;
    assert.equal(
      seen.upgrade,
      'websocket',
      `want the app to get Upgrade: websocket, got ${JSON.stringify(seen)}`,
    );
    assert.match(
      String(seen['x-forwarded-client-cert']),
      new RegExp(`URI=${CLIENT_ID}`),
      'want the upgrade to reach the app through the inbound proxy, with the mTLS peer in XFCC',
    );
    ws.close(1000, 'done');
    assert.equal(await wsClosed(ws, 5_000), 1000, 'want the close handshake to come back through the mesh');
    await pollUntil('the app-side WebSocket closed', 5_000, () => app.open.size === 0);
  });

  it('ws through the forward proxy (HTTP_PROXY, absolute-form target): 1,000 echoes', async () => {
    const ws = wsViaForwardProxy('ws://chat.shop:8080/ws', CLIENT, FORWARD_PROXY_PORT);
    await opened(ws, 5_000);
    await echoMany(ws, 1000, 60_000);
    ws.close();
    await wsClosed(ws, 5_000);
  });

  it('h2 extended CONNECT: the egress port enables it, and a WebSocket over an HTTP/2 stream reaches an HTTP/1 ws app (1,000 echoes)', async () => {
    const { session, settings } = await h2cSession(CLIENT, 9080);
    try {
      assert.equal(
        settings.enableConnectProtocol,
        true,
        'want SETTINGS_ENABLE_CONNECT_PROTOCOL from the proxy',
      );
      const { stream, headers } = await extendedConnect(session, 'h2chat.shop:9080', '/ws');
      assert.equal(
        headers[':status'],
        200,
        `want 200 to the extended CONNECT, got ${JSON.stringify(headers)}`,
      );
      assert.equal(
        headers['sec-websocket-accept'],
        undefined,
        'want no Sec-WebSocket-Accept to an RFC 8441 client (the proxy made and checked the key)',
      );
      await echoManyRaw(stream, 1000, 60_000);
      stream.end();
      await once(stream, 'close');
    } finally {
      session.destroy();
    }
  });

  it('h2 extended CONNECT to an HTTP/2 app that enables it: carried as extended CONNECT, bytes echo both ways', async () => {
    const { session } = await h2cSession(CLIENT, 9080);
    try {
      const { stream, headers } = await extendedConnect(session, 'h2chat.shop:9080', '/echo');
      assert.equal(headers[':status'], 200, `want 200, got ${JSON.stringify(headers)}`);
      assert.equal(headers['x-app'], 'h2echo', 'want the app’s own response headers');
      await echoManyRaw(stream, 300, 30_000);
      stream.end();
      const [code] = (await Promise.race([
        once(stream, 'close').then(() => [stream.rstCode]),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('want the stream closed after both ends')), 5_000),
        ),
      ])) as [number];
      assert.equal(code, 0, 'want the half-closes to end the stream cleanly (no reset)');
    } finally {
      session.destroy();
    }
  });

  it('an HTTP/1 WebSocket handshake to an HTTP/2 app: extended CONNECT upstream, the 101 carries the accept of the client’s key', async () => {
    const socket = connect({ host: CLIENT, port: FORWARD_PROXY_PORT });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.write(
      'GET http://h2chat.shop:9080/echo HTTP/1.1\r\nHost: h2chat.shop:9080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await pollUntil(
      'a 101 head',
      5_000,
      () => got.includes('\r\n\r\n'),
      () => JSON.stringify(got),
    );
    socket.write('ping through h2');
    await pollUntil(
      'the bytes echoed',
      5_000,
      () => got.endsWith('ping through h2'),
      () => JSON.stringify(got),
    );
    // Half-close: the client is done sending, and still gets the echo of its last bytes, then the end.
    let isEnded = false;
    socket.once('end', () => {
      isEnded = true;
    });
    socket.end(' and goodbye');
    await pollUntil(
      'the echo of the last bytes, then the end',
      5_000,
      () => isEnded,
      () => JSON.stringify(got),
    );
    assert.ok(
      got.endsWith('ping through h2 and goodbye'),
      `want the last bytes echoed before the end, got ${JSON.stringify(got)}`,
    );
    const head = got.slice(0, got.indexOf('\r\n\r\n')).toLowerCase();
    assert.match(head, /^http\/1\.1 101 /, `want 101, got ${head}`);
    assert.match(head, /\r\nupgrade: websocket/, `want Upgrade: websocket in ${head}`);
    assert.match(
      head,
      /\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk\+xoo=/,
      `want RFC 6455's accept in ${head}`,
    );
  });

  it('an upgrade is neither retried once sent nor mirrored: the app sees it once, the caller gets 503 UC', async () => {
    const ws = wsViaEgress('ws://chat.shop:8080/flaky', CLIENT, 8080);
    await assert.rejects(opened(ws, 5_000), /want 101, got 503 .*x-alder-response-flags":"UC"/);
    // A mirror would have come by now with the original; give a stray copy one more round trip.
    const after = await curl(['-x', `http://${CLIENT}:${FORWARD_PROXY_PORT}`, 'http://chat.shop:8080/plain']);
    assert.equal(after.status, 200, `want the app reachable after, got ${after.status}`);
    assert.deepEqual(
      app.flaky,
      ['chat.shop:8080'],
      `want one upgrade at the app (no retry of it, no mirror), got the hosts ${JSON.stringify(app.flaky)}`,
    );
  });

  it('upgrades the proxy refuses, and one the app refuses, say why', async () => {
    const viaProxy = ['-x', `http://${CLIENT}:${FORWARD_PROXY_PORT}`];
    const cases: { name: string; args: string[]; status: number; flag: string; body: RegExp }[] = [
      {
        name: 'Upgrade: foo (not WebSocket)',
        args: ['-H', 'Connection: Upgrade', '-H', 'Upgrade: foo', 'http://chat.shop:8080/ws'],
        status: 403,
        flag: 'DPE',
        body: /WebSocket upgrades only, not "foo"/,
      },
      {
        name: 'WebSocket to a TCP service',
        args: ['-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', 'http://raw.shop:9000/'],
        status: 400,
        flag: 'NR',
        body: /raw\.shop.* is a TCP service/,
      },
      {
        name: 'WebSocket with a body',
        args: [
          '-H',
          'Connection: Upgrade',
          '-H',
          'Upgrade: websocket',
          '--data',
          'x',
          'http://chat.shop:8080/ws',
        ],
        status: 403,
        flag: 'DPE',
        body: /has no body/,
      },
      {
        name: 'an HTTP/1 WebSocket handshake without a key: the app’s own refusal, the proxy adds none',
        args: [
          '-H',
          'Connection: Upgrade',
          '-H',
          'Upgrade: websocket',
          '-H',
          'Sec-WebSocket-Version: 13',
          'http://chat.shop:8080/ws',
        ],
        status: 400,
        flag: '',
        body: /Sec-WebSocket-Key/,
      },
      {
        name: 'the app answers the upgrade with 403: relayed as a response',
        args: ['-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', 'http://chat.shop:8080/no'],
        status: 403,
        flag: '',
        body: /^no WebSocket here, app$/,
      },
      {
        name: 'Upgrade: h2c is dropped, the request served as HTTP/1.1',
        args: [
          '-H',
          'Connection: Upgrade, HTTP2-Settings',
          '-H',
          'Upgrade: h2c',
          '-H',
          'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA',
          'http://chat.shop:8080/plain',
        ],
        status: 200,
        flag: '',
        body: /^plain \/plain$/,
      },
    ];
    for (const c of cases) {
      const r = await curl([...viaProxy, ...c.args]);
      assert.equal(r.status, c.status, `${c.name}: want ${c.status}, got ${r.status}: ${r.body}`);
      const flag = /x-alder-response-flags: (\S+)/i.exec(r.headers)?.[1] ?? '';
      assert.equal(flag, c.flag, `${c.name}: want response flag "${c.flag}", got "${flag}" in\n${r.headers}`);
      assert.match(
        r.body,
        c.body,
        `${c.name}: want a body matching ${c.body}, got ${JSON.stringify(r.body)}`,
      );
    }
  });

  it('HTTP/2 streams: a plain CONNECT is refused (403), an extended CONNECT to an HTTP/2 app without it gets 502 UPE', async () => {
    const plain = await h2cSession(CLIENT, 9080);
    const noConnect = await h2cSession(CLIENT, 9081);
    try {
      const tunnel = plain.session.request({ ':method': 'CONNECT', ':authority': 'h2chat.shop:9080' });
      tunnel.on('error', () => undefined);
      const [tunnelHead] = (await once(tunnel, 'response')) as [IncomingHttpHeaders];
      const tunnelBody = await bodyOf(tunnel);
      assert.equal(
        tunnelHead[':status'],
        403,
        `plain CONNECT: want 403, got ${tunnelHead[':status']}: ${tunnelBody}`,
      );
      assert.equal(tunnelHead['x-alder-response-flags'], 'DPE', 'plain CONNECT: want flag DPE');
      assert.match(tunnelBody, /no TCP tunnels/, `plain CONNECT: want the reason, got ${tunnelBody}`);

      const { stream, headers } = await extendedConnect(noConnect.session, 'h2plain.shop:9081', '/ws');
      const body = await bodyOf(stream);
      assert.equal(headers[':status'], 502, `want 502, got ${headers[':status']}: ${body}`);
      assert.equal(headers['x-alder-response-flags'], 'UPE', 'want flag UPE');
      assert.match(body, /SETTINGS_ENABLE_CONNECT_PROTOCOL/, `want the reason, got ${body}`);
    } finally {
      plain.session.destroy();
      noConnect.session.destroy();
    }
  });

  it('a ws client that vanishes: both proxies let go of the upgraded connection within about a second', async () => {
    const client = mesh.proxy('client');
    const web = mesh.proxy('web');
    const closedBefore = 3; // the app-side WebSockets the echo tests above closed (HBONE, HTTP_PROXY, h2 → ws)
    const ws = wsViaEgress('ws://chat.shop:8080/ws', CLIENT, 8080);
    await opened(ws, 5_000);
    await echoMany(ws, 10, 5_000);
    const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    const clientEnd = `${raw.localAddress}:${raw.localPort}`;
    const appEnd = `127.0.0.1:${app.port}`;
    const webToApp = () =>
      tcpSocketsOf(web.process.pid as number).filter((s) => s.remote === appEnd && s.state !== 'TIME_WAIT');
    assert.ok(
      webToApp().length > 0,
      'want the inbound proxy connected to the app while the WebSocket is open',
    );
    raw.destroy(); // gone without a close frame or a FIN of its own choosing
    await app.closed(closedBefore + 1, 2_000);
    await pollUntil(
      "no socket of the client proxy for the gone client's connection",
      2_000,
      () => tcpSocketsOf(client.process.pid as number).filter((s) => s.remote === clientEnd).length === 0,
    );
    await pollUntil(
      'no socket of the inbound proxy to the app',
      2_000,
      () => webToApp().length === 0,
      () => JSON.stringify(webToApp()),
    );
  });
});

describe('proxy: WebSocket through two proxies over direct mTLS (hbone disabled)', () => {
  let dir: string;
  let app: WsApp;
  let mesh: Mesh;

  before(async () => {
    dir = tempDir('websocket-mtls');
    app = await wsApp();
    mesh = await startMesh({
      dir,
      yaml: config({ client: PLAIN_CLIENT, web: PLAIN_WEB }, { ws: app.port, h2echo: 1, h2plain: 1 }, [
        meshConfig('{hbone: {enabled: false}}'),
      ]),
      workloads: [{ name: 'web' }, { name: 'client' }],
    });
  });

  after(async () => {
    await mesh.stop({ wantCleanExit: true });
    app.close();
    removeDir(dir);
  });

  it('ws through the egress port and direct mTLS: 1,000 echoes, then a clean close', async () => {
    const ws = wsViaEgress('ws://chat.shop:8080/ws', PLAIN_CLIENT, 8080);
    await opened(ws, 5_000);
    await echoMany(ws, 1000, 60_000);
    ws.close(1000, 'done');
    assert.equal(await wsClosed(ws, 5_000), 1000, 'want the close handshake to come back through the mesh');
  });
});
