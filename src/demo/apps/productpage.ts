// Bookinfo's productpage: the book page (HTML) and its JSON API, made from details and reviews, each
// called through the mesh with the request's trace headers. The test user (`?user=jason` or a
// `user=jason` cookie) is sent on as `end-user`, which the demo's routing matches.
// Run: node src/demo/apps/productpage.ts (PORT, default 9080; ALDER_APP_ADDRESS, default 127.0.0.1).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { exitOnFatalError, type Handler, sendJson, serveHttp, stopOnSignal } from './app-server.ts';
import { errorMessage, logLine } from './log.ts';
import { MeshClient } from './mesh-client.ts';
import { type Fetched, renderProductPage } from './product-page-html.ts';
import { traceHeaders } from './trace-headers.ts';

const NAME = 'productpage';
exitOnFatalError(NAME);
const DETAILS = 'http://details.bookinfo:9080';
const REVIEWS = 'http://reviews.bookinfo:9080';
const DETAILS_TIMEOUT_MS = 3_000;
/** Above the demo's route timeout for reviews (8s, retries included), so the mesh's answer comes first. */
const REVIEWS_TIMEOUT_MS = 9_000;
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const mesh = MeshClient.fromEnv();

async function fetchJson(service: string, url: string, headers: Record<string, string>, timeoutMs: number) {
  try {
    const answer = await mesh.request(url, {
      headers: { ...headers, accept: 'application/json' },
      timeoutMs,
    });
    const body = parseObject(answer.body.toString());
    if (answer.status !== 200) {
      const why = typeof body?.error === 'string' ? `: ${body.error}` : '';
      return failed(service, `${service} answered ${answer.status}${why}`);
    }
    if (body === undefined) return failed(service, `${service} answered something other than a JSON object`);
    return { ok: true, body } satisfies Fetched;
  } catch (e) {
    return failed(service, errorMessage(e));
  }
}

function failed(service: string, error: string): Fetched {
  logLine(NAME, 'error', `${service} unavailable`, { error });
  return { ok: false, error };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The test user: `?user=` wins (empty: nobody), then the `user` cookie, then an incoming end-user. */
function userOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const fromQuery = query.get('user');
  const cookie = /(?:^|;\s*)user=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
  const raw = fromQuery ?? cookie ?? req.headers['end-user'];
  return typeof raw === 'string' && USER_NAME.test(raw) ? raw : undefined;
}

async function product(req: IncomingMessage, id: number, user: string | undefined) {
  const headers = traceHeaders(req.headers);
  headers['x-request-id'] ??= randomUUID();
  if (user === undefined) delete headers['end-user'];
  else headers['end-user'] = user;
  const [details, reviews] = await Promise.all([
    fetchJson('details', `${DETAILS}/details/${id}`, headers, DETAILS_TIMEOUT_MS),
    fetchJson('reviews', `${REVIEWS}/reviews/${id}`, headers, REVIEWS_TIMEOUT_MS),
  ]);
  return { details, reviews };
}

function asJson(part: Fetched, service: string): unknown {
  return part.ok ? part.body : { error: `${service} unavailable`, detail: part.error };
}

const handle: Handler = async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://productpage');
  const path = url.pathname;
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed', detail: 'want GET' });
  const user = userOf(req, url.searchParams);
  const api = /^\/api\/v1\/products\/(\d{1,9})$/.exec(path);
  if (api !== null) {
    const { details, reviews } = await product(req, Number(api[1]), user);
    const reviewsVersion =
      reviews.ok && typeof reviews.body.version === 'string' ? reviews.body.version : null;
    const status = details.ok && reviews.ok ? 200 : 503;
    return sendJson(res, status, {
      details: asJson(details, 'details'),
      reviews: asJson(reviews, 'reviews'),
      reviewsVersion,
    });
  }
  if (path !== '/' && path !== '/productpage') {
    return sendJson(res, 404, { error: 'not found', detail: 'want /productpage or /api/v1/products/:id' });
  }
  const view = { ...(await product(req, 0, user)), user };
  const html = renderProductPage(view);
  const headers: Record<string, string | number> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
  };
  if (url.searchParams.has('user')) {
    headers['set-cookie'] =
      user === undefined ? 'user=; Path=/; Max-Age=0' : `user=${user}; Path=/; SameSite=Lax`;
  }
  res.writeHead(200, headers);
  res.end(html);
};

const { part } = await serveHttp(NAME, 9080, handle);
stopOnSignal(NAME, [part, { drain: async () => mesh.close(), destroy: () => mesh.close() }]);
