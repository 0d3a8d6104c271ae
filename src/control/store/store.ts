// The store's contract: every backend (SQLite embedded, etcd later) implements this interface and
// passes the same suite (store-contract.ts). The API server and the distribution layer use only this.

import type { AlderError, ObjectRef, Resource } from '../../config/index.ts';

/** An object as the store returns it: metadata.resourceVersion, uid and creationTimestamp are set. */
export type StoredObject = Resource & {
  metadata: Resource['metadata'] & {
    resourceVersion: string;
    uid: string;
    creationTimestamp: string;
    generation: number;
  };
};

/**
 * One write in an atomic batch. When `object.metadata.resourceVersion` (or `resourceVersion` on a
 * delete) is set, it is a precondition: the stored object must be at exactly that version, or the
 * whole batch fails with ALDER_STORE_CONFLICT.
 *  - create: fails with ALDER_STORE_ALREADY_EXISTS when the object exists.
 *  - update: replaces an existing object; ALDER_STORE_NOT_FOUND when absent.
 *  - apply:  creates or replaces (what `alder apply` does); unchanged content writes nothing.
 *  - delete: ALDER_STORE_NOT_FOUND when absent.
 */
export type WriteOp =
  | { op: 'create'; object: Resource }
  | { op: 'update'; object: Resource }
  | { op: 'apply'; object: Resource }
  | { op: 'delete'; ref: ObjectRef; resourceVersion?: string };

export type WriteAction = 'created' | 'configured' | 'unchanged' | 'deleted';

export interface WriteResult {
  ref: ObjectRef;
  action: WriteAction;
  /** The object after the write; for a delete, its last state. */
  object: StoredObject;
}

export interface WriteOutcome {
  /** The store revision after the batch (unchanged when nothing was written). */
  revision: string;
  results: WriteResult[];
}

export interface ListQuery {
  kind: string;
  /** Omit for every namespace. */
  namespace?: string;
}

export interface ListResult {
  items: StoredObject[];
  /** The revision the list is consistent with: watch from here to miss nothing. */
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** For DELETED, the object's last state with resourceVersion set to the deleting revision. */
  object: StoredObject;
}

export interface WatchQuery {
  /** Deliver every event with a revision greater than this one, in revision order. */
  fromRevision: string;
  kind?: string;
  namespace?: string;
}

export interface Watch {
  stop(): void;
}

export interface Store {
  /** 'sqlite', 'etcd' — for health output. */
  readonly backend: string;
  get(ref: ObjectRef): Promise<StoredObject | undefined>;
  list(query: ListQuery): Promise<ListResult>;
  /** Applies every op or none of them. */
  write(ops: readonly WriteOp[]): Promise<WriteOutcome>;
  /**
   * Replays history after `fromRevision`, then streams live events; no event is missed or repeated.
   * Throws ALDER_STORE_GONE when that history has been compacted (the caller lists again).
   */
  watch(query: WatchQuery, onEvent: (event: WatchEvent) => void): Promise<Watch>;
  currentRevision(): Promise<string>;
  /**
   * Why writes fail now (ALDER_STORE_FULL: the disk or database is full), from the failed write until
   * one succeeds; undefined while writes work. Readiness reports it.
   */
  writeProblem(): AlderError | undefined;
  close(): Promise<void>;
}
