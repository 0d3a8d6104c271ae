// Handlers for one kind's resource paths: get, list (label selectors), create, replace, delete and
// watch. Objects pass admission before the store sees them; answers are served in the version asked.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlderError, apiVersionOf, ErrorCode, parseLabelSelector } from '../../config/index.ts';
import { admitObject } from '../admission.ts';
import { checkObjectSize } from '../object-size.ts';
import type { Store, StoredObject, WatchEvent } from '../store/index.ts';
import { parseObjectBody, readBody, send } from './http-io.ts';
import type { ResourcePath } from './paths.ts';

/**
 * Unsent output a watch may hold before it is closed with 410: 4 MiB, less when many watches share
 * the 64 MiB all of them may hold together, never under 256 KiB.
 */
const WATCH_BUFFER_BYTES = 4 * 1024 * 1024;
const WATCH_TOTAL_BUFFER_BYTES = 64 * 1024 * 1024;
const WATCH_MIN_BUFFER_BYTES = 256 * 1024;

function watchBufferBytes(watches: number): number {
  return Math.max(
    WATCH_MIN_BUFFER_BYTES,
    Math.min(WATCH_BUFFER_BYTES, Math.floor(WATCH_TOTAL_BUFFER_BYTES / Math.max(1, watches))),
  );
}
/** How long a closed watch's last bytes wait for a client that does not read. */
const WATCH_EXPIRED_GRACE_MS = 60_000;

export interface ResourceContext {
  store: Store;
  maxBodyBytes: number;
  /** Open watch responses, ended when the server shuts down. */
  watches: Set<ServerResponse>;
}

export async function handleResource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: ResourcePath,
  ctx: ResourceContext,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (target.name === undefined) {
    if (method === 'GET')
      return url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1'
        ? watch(req, res, url, target, ctx)
        : list(req, res, url, target, ctx);
    if (method === 'POST') return create(req, res, target, ctx);
    throw notAllowed(method, 'GET, POST');
  }
  switch (method) {
    case 'GET':
      return get(req, res, target, ctx);
    case 'PUT':
      return replace(req, res, target, ctx);
    case 'DELETE':
      return remove(req, res, url, target, ctx);
    default:
      throw notAllowed(method, 'GET, PUT, DELETE');
  }
}

function notAllowed(method: string, allowed: string): AlderError {
  return new AlderError(ErrorCode.MethodNotAllowed, `method ${method} is not allowed here: use ${allowed}`);
}

function served(obj: StoredObject, target: ResourcePath): StoredObject {
  const apiVersion = apiVersionOf(target.info, target.version);
  return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
}

function refOf(target: ResourcePath) {
  return { kind: target.info.kind, namespace: target.namespace ?? '', name: target.name ?? '' };
}

async function get(req: IncomingMessage, res: ServerResponse, target: ResourcePath, ctx: ResourceContext) {
  const obj = await ctx.store.get(refOf(target));
  if (obj === undefined) throw notFound(target);
  send(req, res, 200, served(obj, target));
}

function notFound(target: ResourcePath): AlderError {
  const where = target.namespace ? ` in namespace ${target.namespace}` : '';
  return new AlderError(ErrorCode.NotFound, `${target.info.kind} ${target.name} not found${where}`, {
    hint: `list what exists with \`alder get ${target.info.plural}${target.namespace ? ` -n ${target.namespace}` : ' -A'}\``,
  });
}

async function list(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: ResourcePath,
  ctx: ResourceContext,
) {
  const selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
  const query =
    target.namespace === undefined
      ? { kind: target.info.kind }
      : { kind: target.info.kind, namespace: target.namespace };
  const result = await ctx.store.list(query);
  send(req, res, 200, {
    apiVersion: apiVersionOf(target.info, target.version),
    kind: `${target.info.kind}List`,
    metadata: { resourceVersion: result.resourceVersion },
    items: result.items.filter((o) => selector(o.metadata.labels)).map((o) => served(o, target)),
  });
}

/** The body of a create or replace: at most one object's size, parsed. */
async function readObject(req: IncomingMessage, target: ResourcePath, ctx: ResourceContext) {
  const text = await readBody(req, ctx.maxBodyBytes);
  checkObjectSize(
    text,
    `${req.method} ${target.info.plural}${target.name === undefined ? '' : `/${target.name}`}`,
  );
  return parseObjectBody(text);
}

async function create(req: IncomingMessage, res: ServerResponse, target: ResourcePath, ctx: ResourceContext) {
  const body = await readObject(req, target, ctx);
  const admitted = admitObject(body, target.info, target.namespace ?? 'default');
  const { resourceVersion: _ignored, ...metadata } = admitted.resource.metadata;
  const outcome = await ctx.store.write([{ op: 'create', object: { ...admitted.resource, metadata } }]);
  const result = outcome.results[0];
  if (admitted.warnings.length > 0) res.setHeader('warning', admitted.warnings.map(warningHeader));
  send(req, res, 201, result === undefined ? {} : served(result.object, target));
}

async function replace(
  req: IncomingMessage,
  res: ServerResponse,
  target: ResourcePath,
  ctx: ResourceContext,
) {
  const body = await readObject(req, target, ctx);
  const admitted = admitObject(body, target.info, target.namespace ?? '');
  if (admitted.resource.metadata.name !== target.name) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `metadata.name is ${admitted.resource.metadata.name} but the path addresses ${target.name}`,
      { hint: 'a rename is a delete and a create' },
    );
  }
  const outcome = await ctx.store.write([{ op: 'update', object: admitted.resource }]);
  const result = outcome.results[0];
  if (admitted.warnings.length > 0) res.setHeader('warning', admitted.warnings.map(warningHeader));
  send(req, res, 200, result === undefined ? {} : served(result.object, target));
}

async function remove(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: ResourcePath,
  ctx: ResourceContext,
) {
  const precondition = url.searchParams.get('resourceVersion') ?? undefined;
  const op =
    precondition === undefined
      ? { op: 'delete' as const, ref: refOf(target) }
      : { op: 'delete' as const, ref: refOf(target), resourceVersion: precondition };
  const outcome = await ctx.store.write([op]);
  const result = outcome.results[0];
  send(req, res, 200, result === undefined ? {} : served(result.object, target));
}

/**
 * Streams `{"type":"ADDED"|"MODIFIED"|"DELETED","object":…}` lines. With resourceVersion=N, every
 * change after N; without, the current objects as ADDED and then every change.
 */
async function watch(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: ResourcePath,
  ctx: ResourceContext,
) {
  const selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
  const from = url.searchParams.get('resourceVersion');
  if (from !== null && from !== '' && from !== '0' && !/^\d+$/.test(from)) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `resourceVersion must be a revision number, got ${JSON.stringify(from)}`,
    );
  }
  const query =
    target.namespace === undefined
      ? { kind: target.info.kind }
      : { kind: target.info.kind, namespace: target.namespace };
  let initial: StoredObject[] = [];
  let fromRevision = from ?? '';
  if (from === null || from === '' || from === '0') {
    const listed = await ctx.store.list(query);
    initial = listed.items;
    fromRevision = listed.resourceVersion;
  }
  // A watcher that does not read falls behind: past its bound of unsent bytes it is closed with a
  // 410 ERROR line, as Kubernetes closes slow watchers, and resumes from its last resourceVersion.
  let initialBytes = 0;
  let isClosed = false;
  const emit = (event: WatchEvent) => {
    if (isClosed || !selector(event.object.metadata.labels)) return;
    res.write(`${JSON.stringify({ type: event.type, object: served(event.object, target) })}\n`);
    if (live && res.writableLength > initialBytes + watchBufferBytes(ctx.watches.size)) expire();
  };
  // Subscribing first means a Gone answer can still be a plain 410 before the stream starts.
  const buffered: WatchEvent[] = [];
  let live = false;
  const handle = await ctx.store.watch({ ...query, fromRevision }, (event) =>
    live ? emit(event) : buffered.push(event),
  );
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.flushHeaders();
  ctx.watches.add(res);
  for (const obj of initial) emit({ type: 'ADDED', object: obj });
  for (const event of buffered) emit(event);
  // The initial state is the store's size, not the client's lag: the bound counts from after it.
  initialBytes = res.writableLength;
  live = true;
  const stop = () => {
    isClosed = true;
    handle.stop();
    ctx.watches.delete(res);
  };
  const expire = () => {
    const unsent = res.writableLength;
    const limit = watchBufferBytes(ctx.watches.size);
    isClosed = true;
    handle.stop(); // stays in ctx.watches until its socket closes: a shutdown cuts it short
    const status = {
      kind: 'Status',
      status: 410,
      code: ErrorCode.WatchExpired,
      reason: 'Expired',
      message: `watch closed: ${unsent} bytes were waiting for this client, over the ${limit} a watch may fall behind (with ${ctx.watches.size} open)`,
      hint: 'read faster, or watch again from the last resourceVersion you saw',
    };
    res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    // A client that never reads again would hold its buffer: let it go after a grace period.
    const timer = setTimeout(() => res.destroy(), WATCH_EXPIRED_GRACE_MS);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
  };
  req.on('close', stop);
  res.on('close', stop);
}

function warningHeader(text: string): string {
  // RFC 9110 Warning-style value, as the Kubernetes API sends: 299 - "text"
  return `299 - ${JSON.stringify(text.replace(/[\r\n]+/g, ' '))}`;
}
