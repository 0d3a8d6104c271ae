// The embedded durable store: one SQLite file holding the objects and a bounded event log, behind
// `Store`. The control plane opens it once per process; sqlite-schema.ts opens and locks the file,
// watch-hub.ts fans events out, stored-object.ts stamps metadata.

import { dirname } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import {
  AlderError,
  describeRef,
  ErrorCode,
  type ObjectRef,
  type Resource,
  refOf,
} from '../../config/index.ts';
import { openDatabase, type Statements } from './sqlite-schema.ts';
import type {
  ListQuery,
  ListResult,
  Store,
  StoredObject,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchQuery,
  WriteOp,
  WriteOutcome,
  WriteResult,
} from './store.ts';
import { atRevision, canonicalJson, isSameContent, stampObject } from './stored-object.ts';
import { type LoggedEvent, WatchHub } from './watch-hub.ts';

export interface SqliteStoreOptions {
  /** The database file; its directory is created if missing. */
  path: string;
  /** Events kept for watch replay; a watch from before them gets ALDER_STORE_GONE. Default 10,000. */
  historyEvents?: number;
  /** How long opening waits for another holder of the file to let go before failing. Default 1,000. */
  busyTimeoutMs?: number;
  /** Called with whatever a watch listener throws; the default emits a process warning. */
  onListenerError?: (err: unknown) => void;
  /** Caps the database at this many pages (SQLite `max_page_count`): tests simulate a full disk with it. */
  maxPageCount?: number;
}

const defaults = { historyEvents: 10_000, busyTimeoutMs: 1_000 } satisfies Omit<SqliteStoreOptions, 'path'>;

/**
 * `Store` over one SQLite file, locked to one store at a time. Revisions are per change: every object a
 * batch changes gets its own revision, consecutive within the batch, and one event in the log; the
 * batch's outcome carries the last. Watch events are shared between watchers: do not mutate them.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #sql: Statements;
  readonly #hub: WatchHub;
  readonly #historyEvents: number;
  #revision: number;
  #compacted: number;
  #isClosed = false;
  #writeProblem: AlderError | undefined;

  /** Opens or creates the store at `path`; throws ALDER_STORE_UNAVAILABLE when another store holds it. */
  constructor(options: SqliteStoreOptions) {
    const { path } = options;
    this.path = path;
    this.#historyEvents = options.historyEvents ?? defaults.historyEvents;
    if (!Number.isSafeInteger(this.#historyEvents) || this.#historyEvents < 1) {
      throw new AlderError(
        ErrorCode.Usage,
        `sqlite store ${path}: historyEvents must be a positive integer`,
        {
          details: { historyEvents: this.#historyEvents },
        },
      );
    }
    ({ db: this.#db, sql: this.#sql } = openDatabase(path, options.busyTimeoutMs ?? defaults.busyTimeoutMs));
    if (options.maxPageCount !== undefined) {
      this.#db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(options.maxPageCount))}`);
    }
    this.#revision = this.#meta('revision');
    this.#compacted = this.#meta('compacted');
    this.#hub = new WatchHub(options.onListenerError ?? warnListenerError);
  }

  async get(ref: ObjectRef): Promise<StoredObject | undefined> {
    this.#checkOpen();
    return this.#read(ref);
  }

  async list(query: ListQuery): Promise<ListResult> {
    this.#checkOpen();
    const rows =
      query.namespace === undefined
        ? this.#sql.listKind.all(query.kind)
        : this.#sql.listNamespace.all(query.kind, query.namespace);
    return { items: rows.map((row) => parseObject(row.object)), resourceVersion: String(this.#revision) };
  }

  async currentRevision(): Promise<string> {
    this.#checkOpen();
    return String(this.#revision);
  }

  async write(ops: readonly WriteOp[]): Promise<WriteOutcome> {
    this.#checkOpen();
    const before = { revision: this.#revision, compacted: this.#compacted };
    const results: WriteResult[] = [];
    const events: LoggedEvent[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const [index, op] of ops.entries()) results.push(this.#writeOne(op, index, events));
      if (events.length > 0) {
        this.#sql.setMeta.run(this.#revision, 'revision');
        this.#compact(this.#revision - this.#historyEvents);
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#revision = before.revision;
      this.#compacted = before.compacted;
      const error = this.#storeError('write', err);
      if (error.code === ErrorCode.StoreFull) this.#writeProblem = error;
      throw error;
    }
    this.#writeProblem = undefined;
    this.#hub.publish(events);
    return { revision: String(this.#revision), results };
  }

  async watch(query: WatchQuery, onEvent: (event: WatchEvent) => void): Promise<Watch> {
    this.#checkOpen();
    const from = parseRevision(query.fromRevision);
    if (from < this.#compacted) {
      throw new AlderError(
        ErrorCode.StoreGone,
        `sqlite store ${this.path}: watch from revision ${from}: history through ${this.#compacted} is compacted; list again and watch from the list's resourceVersion`,
        {
          hint: 'list again and watch from the resourceVersion of that list',
          details: { fromRevision: String(from), oldestRevision: String(this.#compacted + 1) },
        },
      );
    }
    // Replay and subscribe in one synchronous step: no commit can fall between them. A revision from
    // the future (another store's history) gets live events only.
    const backlog = from < this.#revision ? this.#replay(from, query) : [];
    return this.#hub.add(query, onEvent, backlog, this.#revision);
  }

  writeProblem(): AlderError | undefined {
    return this.#writeProblem;
  }

  /** Drops history at or below `revision` (at most the current one); watches from before it get GONE. */
  async compact(revision: string): Promise<void> {
    this.#checkOpen();
    const through = Math.min(parseRevision(revision), this.#revision);
    const before = this.#compacted;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      this.#compact(through);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#compacted = before;
      throw this.#storeError('compact', err);
    }
  }

  /** Stops every watch and closes the file, releasing its lock; safe to call twice. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#hub.stopAll();
    this.#db.close();
  }

  #writeOne(op: WriteOp, index: number, events: LoggedEvent[]): WriteResult {
    const ref = op.op === 'delete' ? op.ref : refOfChecked(op.object, index);
    const current = this.#read(ref);
    const fail = (code: ErrorCode, what: string, hint: string, details: Record<string, unknown> = {}) =>
      new AlderError(code, `${describeRef(ref)}: ${what}`, {
        hint,
        details: { opIndex: index, ref, ...details },
      });
    if (op.op === 'create' && current) {
      throw fail(ErrorCode.StoreAlreadyExists, 'already exists', 'use update or apply to change it');
    }
    if ((op.op === 'update' || op.op === 'delete') && !current) {
      throw fail(ErrorCode.StoreNotFound, 'not found', 'check the kind, namespace and name');
    }
    const given = op.op === 'delete' ? op.resourceVersion : op.object.metadata.resourceVersion;
    const found = current?.metadata.resourceVersion;
    if (given !== undefined && given !== found) {
      const now = found === undefined ? 'the object does not exist' : `the current one is ${found}`;
      throw fail(
        ErrorCode.StoreConflict,
        `resourceVersion ${given} is stale, ${now}: get the object again and retry`,
        'another writer changed it since you read it; get it again, redo your change, and write again',
        { givenResourceVersion: given, currentResourceVersion: found },
      );
    }
    if (op.op === 'delete') {
      const last = atRevision(current!, ++this.#revision);
      this.#sql.deleteObject.run(ref.kind, ref.namespace, ref.name);
      events.push(this.#logEvent('DELETED', ref, canonicalJson(last)));
      return { ref, action: 'deleted', object: last };
    }
    if (current && isSameContent(current, op.object)) return { ref, action: 'unchanged', object: current };
    const next = stampObject(op.object, current, ++this.#revision);
    const json = canonicalJson(next);
    this.#sql.putObject.run(ref.kind, ref.namespace, ref.name, this.#revision, json);
    events.push(this.#logEvent(current ? 'MODIFIED' : 'ADDED', ref, json));
    return { ref, action: current ? 'configured' : 'created', object: next };
  }

  #logEvent(type: WatchEventType, ref: ObjectRef, json: string): LoggedEvent {
    this.#sql.insertEvent.run(this.#revision, type, ref.kind, ref.namespace, ref.name, json);
    // Parsed again: the caller of write() may mutate its result before watchers see the event.
    return { revision: this.#revision, event: { type, object: parseObject(json) } };
  }

  #replay(from: number, query: WatchQuery): LoggedEvent[] {
    const rows = this.#sql.replay.all({ from, kind: query.kind ?? null, namespace: query.namespace ?? null });
    return rows.map((row) => ({
      revision: Number(row.revision),
      event: { type: row.type as WatchEventType, object: parseObject(row.object) },
    }));
  }

  #compact(through: number): void {
    if (through <= this.#compacted) return;
    this.#sql.compact.run(through);
    this.#sql.setMeta.run(through, 'compacted');
    this.#compacted = through;
  }

  #read(ref: ObjectRef): StoredObject | undefined {
    const row = this.#sql.getObject.get(ref.kind, ref.namespace, ref.name);
    return row === undefined ? undefined : parseObject(row.object);
  }

  #meta(key: string): number {
    return Number(this.#sql.getMeta.get(key)?.value ?? 0);
  }

  #checkOpen(): void {
    if (!this.#isClosed) return;
    throw new AlderError(ErrorCode.StoreUnavailable, `sqlite store ${this.path}: closed`, {
      hint: 'open the store again; this instance was closed',
    });
  }

  #storeError(what: string, err: unknown): AlderError {
    if (err instanceof AlderError) return err;
    const reason = err instanceof Error ? err.message : String(err);
    if (isFull(err)) {
      const dir = dirname(this.path);
      return new AlderError(
        ErrorCode.StoreFull,
        `sqlite store ${this.path}: ${what}: the disk or the database is full (${reason}); nothing was written`,
        {
          hint: `free space on the filesystem of ${dir}, then write again; the control plane reports not ready until a write succeeds`,
          details: { path: this.path, reason },
          cause: err,
        },
      );
    }
    const isSqlite = (err as { code?: unknown } | null)?.code === 'ERR_SQLITE_ERROR';
    return new AlderError(
      isSqlite ? ErrorCode.StoreUnavailable : ErrorCode.Internal,
      `sqlite store ${this.path}: ${what}: ${reason}`,
      { details: { path: this.path }, cause: err },
    );
  }
}

/** SQLITE_FULL (13), or the OS's ENOSPC / EDQUOT under it. */
function isFull(err: unknown): boolean {
  const e = err as { errcode?: unknown; code?: unknown; message?: unknown } | null;
  return (
    e?.errcode === 13 ||
    e?.code === 'ENOSPC' ||
    e?.code === 'EDQUOT' ||
    (typeof e?.message === 'string' && /database or disk is full|ENOSPC|no space left/i.test(e.message))
  );
}

function refOfChecked(object: Resource, index: number): ObjectRef {
  const name: unknown = object?.metadata?.name;
  if (typeof object?.kind === 'string' && object.kind !== '' && typeof name === 'string' && name !== '') {
    return refOf(object);
  }
  throw new AlderError(ErrorCode.RequestInvalid, `write op ${index}: object needs a kind and metadata.name`, {
    details: { opIndex: index },
  });
}

function parseRevision(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(n)) return n;
  throw new AlderError(
    ErrorCode.RequestInvalid,
    `revision must be a decimal number like "42", got "${text}"`,
    {
      details: { revision: text },
    },
  );
}

function parseObject(json: unknown): StoredObject {
  return JSON.parse(String(json)) as StoredObject;
}

function warnListenerError(err: unknown): void {
  const reason = err instanceof Error ? err.message : String(err);
  process.emitWarning(`store watch listener threw: ${reason}`, { code: 'ALDER_STORE_WATCH_LISTENER' });
}
