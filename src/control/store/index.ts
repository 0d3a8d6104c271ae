// Public face of the store: the `Store` contract every backend implements, and the embedded SQLite
// backend. The contract test suite (store-contract.ts) is imported directly by backend tests.

export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
export type {
  ListQuery,
  ListResult,
  Store,
  StoredObject,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchQuery,
  WriteAction,
  WriteOp,
  WriteOutcome,
  WriteResult,
} from './store.ts';
