// Opens the SQLite file behind SqliteStore: takes the exclusive lock, sets the durability pragmas,
// creates or checks the schema, and prepares every statement the store runs. The store owns the rest.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { AlderError, ErrorCode } from '../../config/index.ts';

const schemaVersion = 1;

// objects: the current state, one row per (kind, namespace, name); namespace is '' when cluster-scoped.
// events: the bounded history watch replays, one row per revision.
// meta: 'revision' (the last one written) and 'compacted' (history at or below it is gone).
const schemaSql = `
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  revision INTEGER NOT NULL, object TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  revision INTEGER PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, object TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);
PRAGMA user_version = ${schemaVersion};
`;

export interface Statements {
  getObject: StatementSync;
  listKind: StatementSync;
  listNamespace: StatementSync;
  putObject: StatementSync;
  deleteObject: StatementSync;
  insertEvent: StatementSync;
  replay: StatementSync;
  compact: StatementSync;
  getMeta: StatementSync;
  setMeta: StatementSync;
}

/**
 * Opens (creating if missing) the database at `path` and locks it for this connection alone.
 * Throws ALDER_STORE_UNAVAILABLE when another process (or store) holds it past `busyTimeoutMs`.
 */
export function openDatabase(path: string, busyTimeoutMs: number): { db: DatabaseSync; sql: Statements } {
  let db: DatabaseSync;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  } catch (err) {
    throw openError(path, err);
  }
  try {
    // Exclusive locking mode: the first write below takes the file lock and keeps it until close. The
    // OS drops it if the process dies, so a crash never leaves a stale lock behind.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: the WAL is synced at every commit, so a resolved write survives kill -9 and power loss.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('BEGIN IMMEDIATE');
    checkSchemaVersion(db, path);
    db.exec(schemaSql);
    db.exec('COMMIT');
    return { db, sql: prepare(db) };
  } catch (err) {
    db.close();
    throw err instanceof AlderError ? err : openError(path, err);
  }
}

function prepare(db: DatabaseSync): Statements {
  const objectKey = 'kind = ? AND namespace = ? AND name = ?';
  return {
    getObject: db.prepare(`SELECT object FROM objects WHERE ${objectKey}`),
    listKind: db.prepare('SELECT object FROM objects WHERE kind = ? ORDER BY namespace, name'),
    listNamespace: db.prepare('SELECT object FROM objects WHERE kind = ? AND namespace = ? ORDER BY name'),
    putObject: db.prepare(
      `INSERT INTO objects (kind, namespace, name, revision, object) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET revision = excluded.revision, object = excluded.object`,
    ),
    deleteObject: db.prepare(`DELETE FROM objects WHERE ${objectKey}`),
    insertEvent: db.prepare(
      'INSERT INTO events (revision, type, kind, namespace, name, object) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    replay: db.prepare(
      `SELECT revision, type, object FROM events
       WHERE revision > :from AND (:kind IS NULL OR kind = :kind) AND (:namespace IS NULL OR namespace = :namespace)
       ORDER BY revision`,
    ),
    compact: db.prepare('DELETE FROM events WHERE revision <= ?'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
  };
}

function checkSchemaVersion(db: DatabaseSync, path: string): void {
  const row = db.prepare('PRAGMA user_version').get();
  const found = Number(row?.user_version ?? 0);
  if (found <= schemaVersion) return;
  throw new AlderError(
    ErrorCode.StoreUnavailable,
    `sqlite store ${path}: schema version ${found} is newer than this alder's (${schemaVersion}); run a newer alder`,
    {
      hint: 'run a newer alder, or point this one at another store file',
      details: { path, schemaVersion: found },
    },
  );
}

function openError(path: string, err: unknown): AlderError {
  const reason = err instanceof Error ? err.message : String(err);
  if (isBusy(err)) {
    return new AlderError(
      ErrorCode.StoreUnavailable,
      `sqlite store ${path}: in use by another alder process (or another store in this one); stop it, or give this one another path`,
      {
        hint: 'stop the other process using this file, or point this one at another store path',
        details: { path, reason },
        cause: err,
      },
    );
  }
  return new AlderError(
    ErrorCode.StoreUnavailable,
    `sqlite store ${path}: cannot open (${reason}); check the path`,
    {
      hint: 'check that the path is a writable directory entry and not a file of another format',
      details: { path, reason },
      cause: err,
    },
  );
}

/** SQLITE_BUSY (5) or SQLITE_LOCKED (6), as node:sqlite reports them in `errcode`. */
function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return code === 5 || code === 6;
}
