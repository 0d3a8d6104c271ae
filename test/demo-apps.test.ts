// The demo mesh's apps (src/demo/apps), each run as its own process with no mesh around it: the kv
// store over raw RESP (and redis-cli when installed), ratings over hand-written gRPC, reviews v1/v2/v3,
// productpage's page and API, the load generator's counts, the forward-proxy paths (absolute-form and
// CONNECT, with credentials), and a graceful exit on SIGTERM with a request in flight.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  createServer as createH2Server,
  type Http2Session,
  connect as h2Connect,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import {
  closeServer,
  get,
  listenOn,
  type RunningApp,
  startApp,
  startForwardProxy,
  startStandIn,
  suiteScope,
} from './demo-app-kit.ts';
import { grpcCall, h2Request, within } from './grpc-kit.ts';
import { freePort, ROOT } from './harness.ts';

// Each app and stand-in has an address of its own in 127.0.96.0/24, which no other test uses.
const KV = '127.0.96.1';
const RATINGS = '127.0.96.2';
const REVIEWS = '127.0.96.3';
const DETAILS = '127.0.96.4';
const PRODUCTPAGE = '127.0.96.5';
const LOADGEN = '127.0.96.6';
const STAND_IN = '127.0.96.10';
const PROXY = '127.0.96.11';

const GET_RATINGS = '/bookinfo.Ratings/GetRatings';
/** The reply to GetRatings for product 0 as the seeded store has it: reviewer1 = 5, reviewer2 = 4. */
const RATINGS_0 = Buffer.from([0x08, 0x05, 0x10, 0x04]);

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Sends `bytes` on a new connection; resolves once `isDone(reply)` or the server closes. */
async function exchange(
  host: string,
  port: number,
  bytes: string | Buffer,
  isDone: (reply: string) => boolean,
) {
  const socket = netConnect({ host, port });
  let reply = '';
  let isClosed = false;
  const settled = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (isDone(reply)) resolve();
    });
    socket.on('close', () => {
      isClosed = true;
      resolve();
    });
    socket.on('error', () => resolve());
  });
  socket.write(bytes);
  await within(settled, `a reply from ${host}:${port} to ${JSON.stringify(String(bytes).slice(0, 80))}`);
  return { reply, isClosed, socket };
}

function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

describe('kv-store', () => {
  const scope = suiteScope();
  let kv: RunningApp;
  before(async () => {
    kv = await startApp(scope, 'kv-store', KV);
  });

  const cases = [
    { name: 'PING answers PONG', send: command('PING'), want: '+PONG\r\n' },
    {
      name: 'GET answers a seeded star value',
      send: command('GET', 'ratings:0:reviewer1'),
      want: '$1\r\n5\r\n',
    },
    { name: 'GET of a missing key answers nil', send: command('GET', 'no-such-key'), want: '$-1\r\n' },
    {
      name: 'SET then GET round-trips',
      send: command('SET', 'k1', 'hello') + command('GET', 'k1'),
      want: '+OK\r\n$5\r\nhello\r\n',
    },
    {
      name: 'DEL counts the keys it removed',
      send: command('SET', 'k2', 'x') + command('DEL', 'k2', 'k2-missing'),
      want: '+OK\r\n:1\r\n',
    },
    {
      name: 'EXISTS counts the keys present',
      send: command('EXISTS', 'ratings:0:reviewer2', 'k3-missing'),
      want: ':1\r\n',
    },
    {
      name: 'INCR counts from zero',
      send: command('INCR', 'k4') + command('INCR', 'k4'),
      want: ':1\r\n:2\r\n',
    },
    {
      name: 'INCR refuses a value that is no integer',
      send: command('SET', 'k5', 'five') + command('INCR', 'k5'),
      want: '+OK\r\n-ERR value is not an integer or out of range\r\n',
    },
    {
      name: 'KEYS matches a glob',
      send: command('KEYS', 'ratings:0:*'),
      want: '*2\r\n$19\r\nratings:0:reviewer1\r\n$19\r\nratings:0:reviewer2\r\n',
    },
    { name: 'inline commands work as arrays do', send: 'SET k6 7\r\nINCR k6\r\n', want: '+OK\r\n:8\r\n' },
    {
      name: 'an unknown command is an error',
      send: command('FLUSHALL'),
      want: "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n",
    },
    {
      name: 'a wrong number of arguments is an error',
      send: command('GET'),
      want: "-ERR wrong number of arguments for 'get' command\r\n",
    },
  ];
  for (const c of cases) {
    it(`kv-store: ${c.name}`, async () => {
      const { reply, socket } = await exchange(kv.host, kv.port, c.send, (r) => r.length >= c.want.length);
      socket.destroy();
      assert.equal(reply, c.want, `${c.name}: want ${JSON.stringify(c.want)} for ${JSON.stringify(c.send)}`);
    });
  }

  const closing = [
    {
      name: 'a bulk string over the value limit',
      send: '*2\r\n$3\r\nGET\r\n$99999999\r\n',
      want: '-ERR Protocol error: invalid bulk length\r\n',
    },
    {
      name: 'an argument that is not a bulk string',
      send: '*1\r\n:1\r\n',
      want: "-ERR Protocol error: expected '$' for each argument\r\n",
    },
    {
      name: 'an inline line over 64 KiB',
      send: 'GET '.padEnd(70 * 1024, 'x'),
      want: '-ERR Protocol error: too big inline request\r\n',
    },
    { name: 'QUIT', send: command('QUIT'), want: '+OK\r\n' },
  ];
  for (const c of closing) {
    it(`kv-store: answers and closes the connection after ${c.name}`, async () => {
      const { reply, isClosed } = await exchange(kv.host, kv.port, c.send, () => false);
      assert.equal(reply, c.want, `${c.name}: want ${JSON.stringify(c.want)}`);
      assert.equal(isClosed, true, `${c.name}: want the store to close the connection`);
    });
  }

  it('kv-store: redis-cli reads a seeded value and writes one', async (t) => {
    if (spawnSync('redis-cli', ['--version']).error !== undefined) {
      t.skip('redis-cli is not on PATH');
      return;
    }
    const cli = async (...args: string[]) => {
      const child = spawn('redis-cli', ['-h', kv.host, '-p', String(kv.port), ...args]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await within(once(child, 'close'), `redis-cli ${args.join(' ')}`);
      return out.trim();
    };
    assert.equal(await cli('get', 'ratings:0:reviewer2'), '4', 'want redis-cli get to print the seeded 4');
    assert.equal(await cli('set', 'cli-key', 'v'), 'OK', 'want redis-cli set to print OK');
    assert.equal(await cli('get', 'cli-key'), 'v', 'want redis-cli get to read back what it set');
  });
});

interface RatingsAnswer {
  status: string | undefined;
  message: string | undefined;
  reply: Buffer | undefined;
  contentType: string | undefined;
}

/** One GetRatings-style call on a new HTTP/2 connection to `address`; `message` is the request's bytes. */
async function callRatings(address: string, path = GET_RATINGS, message = ''): Promise<RatingsAnswer> {
  const session = h2Connect(`http://${address}`);
  session.on('error', () => {});
  try {
    const r = await within(
      grpcCall(session, 'ratings.bookinfo:9080', path, [message]),
      `${path} at ${address}`,
    );
    const status = r.trailers['grpc-status'] ?? r.headers['grpc-status'];
    const text = r.trailers['grpc-message'] ?? r.headers['grpc-message'];
    return {
      status: status === undefined ? undefined : String(status),
      message: text === undefined ? undefined : decodeURIComponent(String(text)),
      reply: r.messages[0] === undefined ? undefined : Buffer.from(r.messages[0], 'latin1'),
      contentType: r.headers['content-type'],
    };
  } finally {
    session.close();
  }
}

/** The proxy variables `alder run` gives a Node app (src/agent/app-env.ts), for `proxyUrl`. */
function asAlderRunSets(proxyUrl: string): Record<string, string> {
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    NODE_USE_ENV_PROXY: '1',
  };
}

/** An address on which nothing listens. */
async function deadAddress(): Promise<string> {
  return `127.0.96.9:${await freePort()}`;
}

describe('ratings', () => {
  const scope = suiteScope();
  let ratings: RunningApp;
  before(async () => {
    const kv = await startApp(scope, 'kv-store', KV);
    ratings = await startApp(scope, 'ratings', RATINGS, { ALDER_UPSTREAM_KV_6379: kv.address });
  });

  it('ratings: GetRatings answers the stars the kv store holds', async () => {
    const r = await callRatings(ratings.address);
    assert.equal(r.status, '0', `want grpc-status 0, got ${r.status} (${r.message})`);
    assert.equal(r.contentType, 'application/grpc', 'want content-type application/grpc');
    assert.deepEqual(r.reply, RATINGS_0, 'want reviewer1 = 5 (08 05) and reviewer2 = 4 (10 04)');
  });

  it('ratings: a product without ratings is NOT_FOUND', async () => {
    const r = await callRatings(ratings.address, GET_RATINGS, '\x08\x07');
    assert.equal(r.status, '5', `want grpc-status 5 NOT_FOUND for product 7, got ${r.status}`);
    assert.match(r.message ?? '', /no ratings for product 7/, 'want the message to name the product');
  });

  it('ratings: an unknown method is UNIMPLEMENTED, answered trailers-only', async () => {
    const r = await callRatings(ratings.address, '/bookinfo.Ratings/Delete');
    assert.equal(r.status, '12', `want grpc-status 12 UNIMPLEMENTED, got ${r.status}`);
    assert.match(r.message ?? '', /unknown method \/bookinfo\.Ratings\/Delete/, 'want the method named');
  });

  it('ratings: GET /health answers 200 over HTTP/2', async () => {
    const session = h2Connect(`http://${ratings.address}`);
    try {
      const r = await within(h2Request(session, { ':method': 'GET', ':path': '/health' }), 'GET /health');
      assert.equal(r.status, 200, `want 200 from /health, got ${r.status}`);
    } finally {
      session.close();
    }
  });

  it('ratings: is UNAVAILABLE with a message while the kv store is down', async (t) => {
    const kvAddress = await deadAddress();
    const orphan = await startApp(t, 'ratings', RATINGS, { ALDER_UPSTREAM_KV_6379: kvAddress });
    const r = await callRatings(orphan.address);
    assert.equal(r.status, '14', `want grpc-status 14 UNAVAILABLE, got ${r.status} (${r.message})`);
    assert.match(r.message ?? '', new RegExp(`kv store ${kvAddress}`), 'want the message to name the store');
    const log = await orphan.line((l) => l.includes('"call failed"'), 'a JSON log line for the failed call');
    assert.equal(JSON.parse(log).grpcStatus, 14, 'want the log line to carry grpc status 14');
  });
});

interface ReviewsBody {
  id: string;
  podname: string;
  clustername: string;
  version: string;
  reviews: { reviewer: string; text: string; rating?: { stars: number; color: string } }[];
  error?: string;
  detail?: string;
}

describe('reviews', () => {
  const scope = suiteScope();
  let ratings: RunningApp;
  before(async () => {
    const kv = await startApp(scope, 'kv-store', KV);
    ratings = await startApp(scope, 'ratings', RATINGS, { ALDER_UPSTREAM_KV_6379: kv.address });
  });

  const versions = [
    { version: 'v1', want: undefined },
    {
      version: 'v2',
      want: [
        { stars: 5, color: 'black' },
        { stars: 4, color: 'black' },
      ],
    },
    {
      version: 'v3',
      want: [
        { stars: 5, color: 'red' },
        { stars: 4, color: 'red' },
      ],
    },
  ];
  for (const c of versions) {
    it(`reviews: ${c.version} answers ${c.want === undefined ? 'without ratings' : `${c.want[0]?.color} stars from ratings`}`, async (t) => {
      const reviews = await startApp(t, 'reviews', REVIEWS, {
        SERVICE_VERSION: c.version,
        ALDER_WORKLOAD: `reviews-${c.version}-test`,
        ALDER_DEMO_HOSTS: `ratings.bookinfo=${ratings.address}`,
      });
      const r = await get(`http://${reviews.address}/reviews/0`);
      assert.equal(r.status, 200, `want 200, got ${r.status}: ${r.body}`);
      const body = JSON.parse(r.body) as ReviewsBody;
      assert.equal(body.version, c.version, `want version ${c.version}`);
      assert.equal(body.podname, `reviews-${c.version}-test`, 'want podname from ALDER_WORKLOAD');
      assert.equal(body.clustername, 'null', "want clustername 'null', as Bookinfo has it");
      assert.equal(body.id, '0', 'want the product id');
      assert.deepEqual(
        body.reviews.map((x) => x.reviewer),
        ['Reviewer1', 'Reviewer2'],
        'want the two reviewers',
      );
      assert.deepEqual(
        body.reviews.map((x) => x.rating),
        c.want ?? [undefined, undefined],
        `want ${c.version}'s ratings`,
      );
    });
  }

  it('reviews: v2 answers 503 "ratings unavailable" while ratings is down', async (t) => {
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v2',
      ALDER_DEMO_HOSTS: `ratings.bookinfo=${await deadAddress()}`,
    });
    const r = await get(`http://${reviews.address}/reviews/0`);
    assert.equal(r.status, 503, `want 503 while ratings is down, got ${r.status}`);
    const body = JSON.parse(r.body) as ReviewsBody;
    assert.equal(body.error, 'ratings unavailable', 'want error "ratings unavailable"');
    assert.match(body.detail ?? '', /ratings\.bookinfo:9080/, 'want the detail to name ratings');
    const log = await reviews.line((l) => l.includes('"ratings unavailable"'), 'a JSON log line on stderr');
    assert.doesNotMatch(log, /\n\s+at /, 'want no stack trace in the log line');
  });

  it('reviews: sends the trace headers to ratings as gRPC metadata, with a deadline', async (t) => {
    const seen: Record<string, unknown>[] = [];
    const standIn = await startRatingsStandIn(t, (stream, headers) => {
      seen.push(headers);
      answerRatings(stream);
    });
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v3',
      ALDER_DEMO_HOSTS: `ratings.bookinfo=${standIn.address}`,
    });
    const trace = {
      'x-request-id': 'req-42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      'x-b3-sampled': '1',
      'end-user': 'jason',
      'user-agent': 'demo-test',
    };
    const r = await get(`http://${reviews.address}/reviews/0`, trace);
    assert.equal(r.status, 200, `want 200, got ${r.status}: ${r.body}`);
    const h = seen[0] ?? {};
    for (const [name, value] of Object.entries(trace)) {
      assert.equal(h[name], value, `want metadata ${name}: ${value} at ratings`);
    }
    assert.equal(h[':authority'], 'ratings.bookinfo:9080', 'want :authority ratings.bookinfo:9080');
    assert.equal(h.te, 'trailers', 'want te: trailers');
    assert.match(String(h['grpc-timeout']), /^\d+m$/, 'want a grpc-timeout in milliseconds');
  });

  it('reviews: opens a new session after ratings sends GOAWAY', async (t) => {
    let sessions = 0;
    const standIn = await startRatingsStandIn(t, (stream) => answerRatings(stream));
    standIn.server.on('session', () => sessions++);
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v2',
      ALDER_DEMO_HOSTS: `ratings.bookinfo=${standIn.address}`,
    });
    assert.equal(
      (await get(`http://${reviews.address}/reviews/0`)).status,
      200,
      'want the first call answered',
    );
    await standIn.closeSessions();
    const again = await get(`http://${reviews.address}/reviews/0`);
    assert.equal(
      again.status,
      200,
      `want the call after GOAWAY answered on a new session, got ${again.body}`,
    );
    assert.equal(sessions, 2, 'want exactly one new session after GOAWAY');
  });

  it('reviews: reaches ratings by CONNECT through HTTP_PROXY with credentials, on one session', async (t) => {
    const auth = basic('demo', 's3cret');
    const proxy = await startForwardProxy(t, PROXY, { 'ratings.bookinfo:9080': ratings.address }, auth);
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v2',
      ...asAlderRunSets(`http://demo:s3cret@${PROXY}:${proxy.port}`),
    });
    for (let i = 0; i < 3; i++) {
      const r = await get(`http://${reviews.address}/reviews/0`);
      assert.equal(r.status, 200, `call ${i}: want 200 through the proxy, got ${r.status}: ${r.body}`);
      const stars = (JSON.parse(r.body) as ReviewsBody).reviews.map((x) => x.rating?.stars);
      assert.deepEqual(stars, [5, 4], `call ${i}: want the stars from ratings`);
    }
    assert.equal(proxy.connects.length, 1, 'want one CONNECT: every call shares one HTTP/2 session');
    const c = proxy.connects[0];
    assert.equal(c?.url, 'ratings.bookinfo:9080', 'want CONNECT ratings.bookinfo:9080');
    assert.equal(c?.headers.host, 'ratings.bookinfo:9080', 'want the Host header on CONNECT');
    assert.equal(c?.headers['proxy-authorization'], auth, 'want Proxy-Authorization from the proxy URL');
  });
});

interface RatingsStandIn {
  address: string;
  server: ReturnType<typeof createH2Server>;
  /** Sends GOAWAY on every session and waits for them to close. */
  closeSessions(): Promise<void>;
}

/** An h2c server on STAND_IN that hands each stream to `onStream`. */
async function startRatingsStandIn(
  t: TestContext,
  onStream: (stream: ServerHttp2Stream, headers: Record<string, unknown>) => void,
): Promise<RatingsStandIn> {
  const server = createH2Server();
  const sessions = new Set<Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.resume();
    onStream(stream, headers as Record<string, unknown>);
  });
  const port = await listenOn(server, STAND_IN);
  t.after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    address: `${STAND_IN}:${port}`,
    server,
    closeSessions: async () => {
      const closed = [...sessions].map((s) => once(s, 'close'));
      for (const s of sessions) s.close();
      await within(Promise.all(closed), 'the stand-in sessions to close');
    },
  };
}

/** Answers a GetRatings stream with reviewer1 = 5, reviewer2 = 4, status 0. */
function answerRatings(stream: ServerHttp2Stream): void {
  const framed = Buffer.alloc(5 + RATINGS_0.length);
  framed.writeUInt32BE(RATINGS_0.length, 1);
  RATINGS_0.copy(framed, 5);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(framed);
}

const DETAILS_0 = {
  id: 0,
  author: 'William Shakespeare',
  year: 1595,
  type: 'paperback',
  pages: 200,
  publisher: 'PublisherA',
  language: 'English',
  'ISBN-10': '1234567890',
  'ISBN-13': '123-1234567890',
};
const REVIEWS_V2 = {
  id: '0',
  podname: 'reviews-v2-standin',
  clustername: 'null',
  version: 'v2',
  reviews: [
    { reviewer: 'Reviewer1', text: 'An extremely entertaining play', rating: { stars: 5, color: 'black' } },
    { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining', rating: { stars: 4, color: 'black' } },
  ],
};

/** A stand-in for details and reviews at once; `down` names the service that answers 503. */
function backend(down: { service?: 'details' | 'reviews' } = {}) {
  return (r: { url: string }) => {
    const service = r.url.startsWith('/details/') ? 'details' : 'reviews';
    if (down.service === service) return { status: 503, body: { error: `${service} is down` } };
    return { status: 200, body: service === 'details' ? DETAILS_0 : REVIEWS_V2 };
  };
}

describe('productpage', () => {
  const scope = suiteScope();
  const down: { service?: 'details' | 'reviews' } = {};
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let page: RunningApp;
  before(async () => {
    standIn = await startStandIn(scope, STAND_IN, backend(down));
    page = await startApp(scope, 'productpage', PRODUCTPAGE, {
      ALDER_DEMO_HOSTS: `details.bookinfo=${standIn.address},reviews.bookinfo=${standIn.address}`,
    });
  });
  const lastTo = (prefix: string) => standIn.requests.filter((r) => r.url.startsWith(prefix)).at(-1);

  it('productpage: renders the details, the reviews with stars and the version that answered', async () => {
    delete down.service;
    const r = await get(`http://${page.address}/productpage`);
    assert.equal(r.status, 200, `want 200, got ${r.status}`);
    assert.match(String(r.headers['content-type']), /^text\/html/, 'want an HTML page');
    assert.match(r.body, /^<!doctype html>/, 'want a doctype first');
    assert.match(r.body, /William Shakespeare/, 'want the author from details');
    assert.match(r.body, /123-1234567890/, 'want the ISBN-13 from details');
    assert.match(r.body, /★★★★★/, 'want five stars for Reviewer1');
    assert.match(r.body, /★★★★☆/, 'want four stars for Reviewer2');
    assert.match(r.body, /Reviews served by reviews v2/, 'want the reviews version named');
    assert.doesNotMatch(r.body, /<script|<link|src=/, 'want no scripts or external assets');
    assert.equal((await get(`http://${page.address}/`)).status, 200, 'want / to serve the page too');
  });

  it('productpage: the JSON API answers details, reviews and reviewsVersion', async () => {
    delete down.service;
    const r = await get(`http://${page.address}/api/v1/products/0`);
    assert.equal(r.status, 200, `want 200, got ${r.status}: ${r.body}`);
    const body = JSON.parse(r.body) as { details: unknown; reviews: unknown; reviewsVersion: unknown };
    assert.deepEqual(body.details, DETAILS_0, 'want the details as details answered');
    assert.deepEqual(body.reviews, REVIEWS_V2, 'want the reviews as reviews answered');
    assert.equal(body.reviewsVersion, 'v2', 'want reviewsVersion v2');
  });

  const users = [
    { name: '?user=jason', path: '/productpage?user=jason', headers: {}, want: 'jason' },
    {
      name: 'a user=jason cookie',
      path: '/productpage',
      headers: { cookie: 'theme=dark; user=jason' },
      want: 'jason',
    },
    {
      name: 'the API with a cookie',
      path: '/api/v1/products/0',
      headers: { cookie: 'user=jason' },
      want: 'jason',
    },
    { name: 'no user', path: '/productpage', headers: {}, want: undefined },
  ];
  for (const c of users) {
    it(`productpage: ${c.name} sends end-user ${c.want ?? '(none)'} to reviews and details`, async () => {
      delete down.service;
      const r = await get(`http://${page.address}${c.path}`, c.headers);
      assert.ok(r.status === 200, `want 200, got ${r.status}`);
      assert.equal(lastTo('/reviews/')?.headers['end-user'], c.want, `want end-user ${c.want} at reviews`);
      assert.equal(lastTo('/details/')?.headers['end-user'], c.want, `want end-user ${c.want} at details`);
    });
  }

  it('productpage: copies the trace headers onto both calls, and makes an x-request-id when none came', async () => {
    delete down.service;
    const trace = {
      'x-request-id': 'req-7',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'alder=1',
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
      'x-ot-span-context': 'ctx',
      'user-agent': 'demo-test',
    };
    await get(`http://${page.address}/productpage`, trace);
    for (const prefix of ['/reviews/', '/details/']) {
      for (const [name, value] of Object.entries(trace)) {
        assert.equal(lastTo(prefix)?.headers[name], value, `want ${name}: ${value} on the call to ${prefix}`);
      }
    }
    await get(`http://${page.address}/productpage`);
    const made = lastTo('/reviews/')?.headers['x-request-id'];
    assert.match(String(made), /^[0-9a-f-]{36}$/, 'want a fresh x-request-id when the request had none');
    assert.equal(
      lastTo('/details/')?.headers['x-request-id'],
      made,
      'want the same x-request-id on both calls',
    );
  });

  const outages = [
    { service: 'reviews' as const, html: /Product reviews are unavailable/ },
    { service: 'details' as const, html: /Product details are unavailable/ },
  ];
  for (const c of outages) {
    it(`productpage: with ${c.service} down, the page still renders (200) and the API answers 503`, async () => {
      down.service = c.service;
      const html = await get(`http://${page.address}/productpage`);
      assert.equal(html.status, 200, `want the page with 200 while ${c.service} is down, got ${html.status}`);
      assert.match(html.body, c.html, `want the page to say ${c.service} is unavailable`);
      const api = await get(`http://${page.address}/api/v1/products/0`);
      assert.equal(
        api.status,
        503,
        `want the API to answer 503 while ${c.service} is down, got ${api.status}`,
      );
      const body = JSON.parse(api.body) as Record<string, { error?: string }>;
      assert.equal(
        body[c.service]?.error,
        `${c.service} unavailable`,
        `want ${c.service}: {error} in the API`,
      );
      delete down.service;
    });
  }

  const proxies = [
    { name: 'with credentials', credentials: 'demo:s3cret@', auth: basic('demo', 's3cret') },
    { name: 'without credentials', credentials: '', auth: undefined },
  ];
  for (const c of proxies) {
    it(`productpage: calls through HTTP_PROXY in absolute form, ${c.name}`, async (t) => {
      const routes = { 'details.bookinfo:9080': standIn.address, 'reviews.bookinfo:9080': standIn.address };
      const proxy = await startForwardProxy(t, PROXY, routes, c.auth);
      const proxied = await startApp(t, 'productpage', PRODUCTPAGE, {
        ...asAlderRunSets(`http://${c.credentials}${PROXY}:${proxy.port}`),
      });
      const r = await get(`http://${proxied.address}/api/v1/products/0`);
      assert.equal(r.status, 200, `want 200 through the proxy, got ${r.status}: ${r.body}`);
      const urls = proxy.requests.map((x) => x.url).sort();
      assert.deepEqual(
        urls,
        ['http://details.bookinfo:9080/details/0', 'http://reviews.bookinfo:9080/reviews/0'],
        'want absolute-form requests for details and reviews',
      );
      for (const x of proxy.requests) {
        assert.equal(
          x.headers['proxy-authorization'],
          c.auth,
          `want Proxy-Authorization ${c.auth} on ${x.url}`,
        );
        assert.equal(x.headers.host, new URL(x.url).host, `want the Host header of ${x.url}`);
      }
    });
  }

  it('productpage: the whole chain of real apps (kv, ratings, reviews v3, details) answers red stars', async (t) => {
    const kv = await startApp(t, 'kv-store', KV);
    const ratings = await startApp(t, 'ratings', RATINGS, { ALDER_UPSTREAM_KV_6379: kv.address });
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v3',
      ALDER_DEMO_HOSTS: `ratings.bookinfo=${ratings.address}`,
    });
    const details = await startApp(t, 'details', DETAILS);
    const chain = await startApp(t, 'productpage', PRODUCTPAGE, {
      ALDER_DEMO_HOSTS: `details.bookinfo:9080=${details.address},reviews.bookinfo=${reviews.address}`,
    });
    const r = await get(`http://${chain.address}/api/v1/products/0`);
    assert.equal(r.status, 200, `want 200 from the whole chain, got ${r.status}: ${r.body}`);
    const body = JSON.parse(r.body) as { details: unknown; reviews: ReviewsBody; reviewsVersion: string };
    assert.deepEqual(body.details, DETAILS_0, "want details' Comedy of Errors data");
    assert.equal(body.reviewsVersion, 'v3', 'want reviewsVersion v3');
    assert.deepEqual(
      body.reviews.reviews.map((x) => x.rating),
      [
        { stars: 5, color: 'red' },
        { stars: 4, color: 'red' },
      ],
      'want red stars 5 and 4 from ratings and the kv store',
    );
    const html = await get(`http://${chain.address}/productpage`);
    assert.match(html.body, /Reviews served by reviews v3/, 'want the page to name reviews v3');
  });
});

interface LoadSummary {
  msg: string;
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  inFlight: number;
  successRate: number | null;
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  byVersion: Record<string, number>;
}

/** Waits for a summary line on the load generator's stdout for which `isEnough` holds. */
async function loadLine(loadgen: RunningApp, isEnough: (s: LoadSummary) => boolean, what: string) {
  const line = await loadgen.line((l) => {
    if (!l.startsWith('{"msg":"load"')) return false;
    return isEnough(JSON.parse(l) as LoadSummary);
  }, what);
  return JSON.parse(line) as LoadSummary;
}

describe('loadgen', () => {
  it('loadgen: counts answers by status and by reviews version, and serves the counts at /stats', async (t) => {
    let n = 0;
    const target = await startStandIn(t, STAND_IN, () => {
      n++;
      if (n % 3 === 0) return { status: 503, body: { reviewsVersion: null } };
      return { status: 200, body: { reviewsVersion: n % 3 === 1 ? 'v1' : 'v2' } };
    });
    const loadgen = await startApp(t, 'loadgen', LOADGEN, {
      LOADGEN_RPS: '50',
      LOADGEN_REPORT_MS: '100',
      ALDER_DEMO_HOSTS: `productpage.bookinfo=${target.address}`,
    });
    await loadLine(loadgen, (s) => s.ok + s.failed >= 9, 'a summary with at least 9 answers');
    const r = await get(`http://${loadgen.address}/stats`);
    assert.equal(r.status, 200, `want 200 from /stats, got ${r.status}`);
    const s = JSON.parse(r.body) as LoadSummary;
    assert.ok(s.sent >= 9, `want at least 9 sent, got ${s.sent}`);
    assert.ok(
      s.ok > 0 && s.failed > 0,
      `want both ok and failed counted, got ok ${s.ok}, failed ${s.failed}`,
    );
    assert.ok((s.byStatus['503'] ?? 0) > 0, `want 503s counted by status, got ${JSON.stringify(s.byStatus)}`);
    assert.ok(
      (s.byVersion.v1 ?? 0) > 0 && (s.byVersion.v2 ?? 0) > 0,
      `want v1 and v2 counted, got ${JSON.stringify(s.byVersion)}`,
    );
    assert.ok(
      s.successRate !== null && s.successRate > 0 && s.successRate < 1,
      `want a success rate between 0 and 1, got ${s.successRate}`,
    );
    const first = target.requests[0];
    assert.equal(first?.url, '/api/v1/products/0', 'want the default target path /api/v1/products/0');
    assert.equal(first?.headers.host, 'productpage.bookinfo:9080', 'want the default target host');
    assert.match(
      String(first?.headers['x-request-id']),
      /^[0-9a-f-]{36}$/,
      'want an x-request-id per request',
    );
  });

  it('loadgen: skips ticks while its in-flight cap is reached, and times requests out', async (t) => {
    const target = await startStandIn(t, STAND_IN, () => 'hold');
    const loadgen = await startApp(t, 'loadgen', LOADGEN, {
      LOADGEN_RPS: '50',
      LOADGEN_REPORT_MS: '100',
      LOADGEN_MAX_IN_FLIGHT: '2',
      LOADGEN_TIMEOUT_MS: '300',
      LOADGEN_TARGET: `http://${target.address}/api/v1/products/0`,
    });
    const s = await loadLine(
      loadgen,
      (x) => x.skipped > 0 && (x.byError.TIMEOUT ?? 0) > 0,
      'a summary with skipped ticks and timeouts',
    );
    assert.ok(s.inFlight <= 2, `want at most 2 requests in flight, got ${s.inFlight}`);
    assert.equal(s.ok, 0, 'want no request counted ok while the target never answers');
  });
});

/** SIGTERM, wait for the app to say it is stopping, `release` what it waits on; it must exit 0 within 5 s. */
async function stopGracefully(app: RunningApp, release: () => void): Promise<void> {
  const stopped = app.stop('SIGTERM');
  await app.line((l) => l.includes('"msg":"stopping"'), 'its "stopping" log line after SIGTERM');
  release();
  const exit = await stopped;
  assert.equal(exit.code, 0, `${app.name}: want exit code 0 after SIGTERM, got ${exit.code ?? exit.signal}`);
  assert.ok(
    exit.ms < 5_000,
    `${app.name}: want an exit within 5 s of SIGTERM, took ${Math.round(exit.ms)} ms`,
  );
  const stoppedLine = await app.line((l) => l.includes('"msg":"stopped"'), 'its "stopped" log line');
  assert.equal(JSON.parse(stoppedLine).how, 'drained', `${app.name}: want in-flight work drained, not cut`);
}

/** A raw HTTP/1.1 GET on a connection that stays open; resolves once the answer is in. */
async function keepAliveGet(host: string, port: number, path: string): Promise<Socket> {
  const { reply, socket, isClosed } = await exchange(
    host,
    port,
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    (r) => r.includes('\r\n\r\n') && r.endsWith('\n'),
  );
  assert.match(reply, /^HTTP\/1\.1 200 /, `want 200 for GET ${path}, got ${reply.slice(0, 40)}`);
  assert.equal(isClosed, false, 'want the connection kept alive');
  return socket;
}

describe('shutdown', () => {
  it('shutdown: productpage finishes a request in flight with connection: close, and exits 0', async (t) => {
    const standIn = await startStandIn(t, STAND_IN, (r) =>
      r.url.startsWith('/details/') ? 'hold' : { status: 200, body: REVIEWS_V2 },
    );
    const page = await startApp(t, 'productpage', PRODUCTPAGE, {
      ALDER_DEMO_HOSTS: `details.bookinfo=${standIn.address},reviews.bookinfo=${standIn.address}`,
    });
    const inFlight = get(`http://${page.address}/api/v1/products/0`);
    const held = await standIn.held();
    await stopGracefully(page, () => {
      held.release({ status: 200, body: DETAILS_0 });
    });
    const r = await inFlight;
    assert.equal(r.status, 200, `want the request in flight answered 200, got ${r.status}: ${r.body}`);
    assert.equal(r.headers.connection, 'close', 'want connection: close on an answer given while stopping');
  });

  it('shutdown: productpage stops taking connections as soon as it is stopping', async (t) => {
    const standIn = await startStandIn(t, STAND_IN, (r) =>
      r.url.startsWith('/details/') ? 'hold' : { status: 200, body: REVIEWS_V2 },
    );
    const page = await startApp(t, 'productpage', PRODUCTPAGE, {
      ALDER_DEMO_HOSTS: `details.bookinfo=${standIn.address},reviews.bookinfo=${standIn.address}`,
    });
    const inFlight = get(`http://${page.address}/api/v1/products/0`);
    const held = await standIn.held();
    let outcome = 'not tried';
    await stopGracefully(page, () => {
      get(`http://${page.address}/health`, {}, 2_000)
        .then(
          (r) => `answered ${r.status}`,
          (e: NodeJS.ErrnoException) => e.code ?? e.message,
        )
        .then((o) => {
          outcome = o;
          held.release({ status: 200, body: DETAILS_0 });
        });
    });
    assert.equal(outcome, 'ECONNREFUSED', 'want a new connection refused while the page is stopping');
    assert.equal((await inFlight).status, 200, 'want the request in flight answered 200');
  });

  it('shutdown: details closes an idle keep-alive connection and exits 0', async (t) => {
    const details = await startApp(t, 'details', DETAILS);
    const socket = await keepAliveGet(details.host, details.port, '/details/0');
    const closed = once(socket, 'close');
    await stopGracefully(details, () => {});
    await within(closed, 'details to close the idle keep-alive connection');
  });

  it('shutdown: reviews finishes a call to ratings in flight and exits 0', async (t) => {
    let arrived: (s: ServerHttp2Stream) => void = () => {};
    const stream = new Promise<ServerHttp2Stream>((resolve) => {
      arrived = resolve;
    });
    const standIn = await startRatingsStandIn(t, (s) => arrived(s));
    const reviews = await startApp(t, 'reviews', REVIEWS, {
      SERVICE_VERSION: 'v2',
      ALDER_DEMO_HOSTS: `ratings.bookinfo=${standIn.address}`,
    });
    const inFlight = get(`http://${reviews.address}/reviews/0`);
    const held = await within(stream, 'the GetRatings call at the stand-in');
    await stopGracefully(reviews, () => answerRatings(held));
    const r = await inFlight;
    assert.equal(r.status, 200, `want the request in flight answered 200, got ${r.status}: ${r.body}`);
  });

  it('shutdown: ratings finishes a call waiting on the kv store and exits 0', async (t) => {
    let received = '';
    let gotBoth: () => void = () => {};
    const bothGets = new Promise<void>((resolve) => {
      gotBoth = resolve;
    });
    const sockets: Socket[] = [];
    const kv = createNetServer((socket) => {
      sockets.push(socket);
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        if (received.split('GET').length - 1 === 2) gotBoth();
      });
    });
    const kvPort = await listenOn(kv, STAND_IN);
    t.after(() => closeServer(kv));
    t.after(() => {
      for (const s of sockets) s.destroy();
    });
    const ratings = await startApp(t, 'ratings', RATINGS, {
      ALDER_UPSTREAM_KV_6379: `${STAND_IN}:${kvPort}`,
    });
    const inFlight = callRatings(ratings.address);
    await within(bothGets, 'both GETs at the kv stand-in');
    await stopGracefully(ratings, () => sockets[0]?.write('$1\r\n3\r\n$1\r\n3\r\n'));
    const r = await inFlight;
    assert.equal(
      r.status,
      '0',
      `want the call in flight to end with grpc-status 0, got ${r.status} (${r.message})`,
    );
    assert.deepEqual(r.reply, Buffer.from([0x08, 0x03, 0x10, 0x03]), 'want the 3 and 3 stars the store sent');
  });

  it('shutdown: kv-store closes an idle connection and exits 0', async (t) => {
    const kv = await startApp(t, 'kv-store', KV);
    const { socket } = await exchange(kv.host, kv.port, command('PING'), (r) => r === '+PONG\r\n');
    const closed = once(socket, 'close');
    await stopGracefully(kv, () => {});
    await within(closed, 'kv-store to close the idle connection');
  });

  it('shutdown: loadgen waits for its request in flight, reports it, and exits 0', async (t) => {
    const target = await startStandIn(t, STAND_IN, () => 'hold');
    const loadgen = await startApp(t, 'loadgen', LOADGEN, {
      LOADGEN_RPS: '20',
      LOADGEN_MAX_IN_FLIGHT: '1',
      LOADGEN_TARGET: `http://${target.address}/api/v1/products/0`,
    });
    const held = await target.held();
    await stopGracefully(loadgen, () => held.release({ status: 200, body: { reviewsVersion: 'v1' } }));
    const last = await loadLine(loadgen, (s) => s.ok === 1, 'a final summary counting the request in flight');
    assert.equal(last.byVersion.v1, 1, 'want the final summary to count reviews v1 once');
  });
});

describe('startup', () => {
  const bad = [
    { app: 'reviews', env: { SERVICE_VERSION: 'v9' }, want: /SERVICE_VERSION must be v1, v2 or v3/ },
    {
      app: 'productpage',
      env: { ALDER_DEMO_HOSTS: 'details.bookinfo' },
      want: /ALDER_DEMO_HOSTS: want NAME=HOST:PORT/,
    },
    { app: 'ratings', env: { ALDER_UPSTREAM_KV_6379: 'kv' }, want: /ALDER_UPSTREAM_KV_6379: want HOST:PORT/ },
    { app: 'loadgen', env: { LOADGEN_RPS: 'fast' }, want: /LOADGEN_RPS must be a number/ },
    { app: 'details', env: { PORT: '70000' }, want: /PORT must be a port number/ },
  ];
  for (const c of bad) {
    it(`startup: ${c.app} refuses ${Object.keys(c.env)[0]}=${Object.values(c.env)[0]} with one JSON line and exit 1`, async () => {
      const child = spawn(process.execPath, [join(ROOT, 'src', 'demo', 'apps', `${c.app}.ts`)], {
        env: { ...process.env, ALDER_APP_ADDRESS: '127.0.96.20', PORT: '0', ...c.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const [code] = (await within(once(child, 'exit'), `${c.app} to exit`)) as [number | null];
      assert.equal(code, 1, `want exit code 1, got ${code}; stderr: ${stderr}`);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, `want one line on stderr, got:\n${stderr}`);
      const entry = JSON.parse(lines[0] as string) as { msg: string; error: string };
      assert.equal(entry.msg, 'fatal', 'want msg "fatal"');
      assert.match(entry.error, c.want, `want the error to say what is wrong, got ${entry.error}`);
    });
  }
});
