// Bookinfo's reviews, in three versions (SERVICE_VERSION): v1 shows no stars and calls nothing; v2
// (black stars) and v3 (red) ask ratings over gRPC, through the mesh. When ratings fails, the answer
// is 503, so the failure reaches the caller and the mesh's retry on reviews can absorb it.
// Run: node src/demo/apps/reviews.ts (PORT, default 9080; ALDER_APP_ADDRESS, default 127.0.0.1).

import { hostname } from 'node:os';
import { exitOnFatalError, type Handler, sendJson, serveHttp, stopOnSignal } from './app-server.ts';
import { GrpcClient } from './grpc-client.ts';
import { decodeInt32Fields, encodeInt32Fields, GRPC_STATUS, GrpcError } from './grpc-wire.ts';
import { errorMessage, logLine } from './log.ts';
import { MeshClient } from './mesh-client.ts';
import { traceHeaders } from './trace-headers.ts';

const NAME = 'reviews';
exitOnFatalError(NAME);
const RATINGS = 'ratings.bookinfo:9080';
/** Under the 2s per-try timeout of the demo's retry policy, so a slow ratings becomes our 503. */
const RATINGS_DEADLINE_MS = 1_500;

const STAR_COLOR: Record<string, string | undefined> = { v1: undefined, v2: 'black', v3: 'red' };
const version = process.env.SERVICE_VERSION || 'v1';
if (!(version in STAR_COLOR)) {
  throw new Error(`SERVICE_VERSION must be v1, v2 or v3, got ${JSON.stringify(version)}`);
}
const color = STAR_COLOR[version];
const podname = process.env.ALDER_WORKLOAD || hostname();

const REVIEWS = [
  {
    reviewer: 'Reviewer1',
    text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  },
  {
    reviewer: 'Reviewer2',
    text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
  },
];

const mesh = MeshClient.fromEnv();
const ratings = new GrpcClient(RATINGS, mesh);

/** The stars of the two reviewers, or undefined when ratings has none for this product. */
async function stars(productId: number, metadata: Record<string, string>): Promise<number[] | undefined> {
  try {
    const reply = await ratings.unary({
      path: '/bookinfo.Ratings/GetRatings',
      message: encodeInt32Fields(new Map([[1, productId]])),
      metadata,
      timeoutMs: RATINGS_DEADLINE_MS,
    });
    const fields = decodeInt32Fields(reply);
    return [fields.get(1) ?? 0, fields.get(2) ?? 0];
  } catch (e) {
    if (e instanceof GrpcError && e.code === GRPC_STATUS.NOT_FOUND) return undefined;
    throw e;
  }
}

const handle: Handler = async (req, res) => {
  const path = (req.url ?? '/').split('?')[0] as string;
  if (path === '/health') return sendJson(res, 200, { status: 'ok', version });
  const m = /^\/reviews\/(\d{1,9})$/.exec(path);
  if (req.method !== 'GET' || m === null) {
    return sendJson(res, 404, { error: 'not found', detail: 'want GET /reviews/:id with a numeric id' });
  }
  const id = Number(m[1]);
  let ratingsOf: number[] | undefined;
  if (color !== undefined) {
    try {
      ratingsOf = await stars(id, traceHeaders(req.headers));
    } catch (e) {
      const detail = errorMessage(e);
      logLine(NAME, 'error', 'ratings unavailable', { id, version, error: detail });
      return sendJson(res, 503, { error: 'ratings unavailable', detail, version });
    }
  }
  const reviews = REVIEWS.map((r, i) =>
    ratingsOf === undefined || color === undefined
      ? r
      : { ...r, rating: { stars: ratingsOf[i] ?? 0, color } },
  );
  sendJson(res, 200, { id: String(id), podname, clustername: 'null', version, reviews });
};

const { part } = await serveHttp(NAME, 9080, handle);
stopOnSignal(NAME, [
  part,
  { drain: () => ratings.close(), destroy: () => ratings.destroy() },
  { drain: async () => mesh.close(), destroy: () => mesh.close() },
]);
