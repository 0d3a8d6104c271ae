// The store contract, objects half: create, get, list, update, apply, delete, their error codes,
// atomic batches, revision order and concurrent writers. Run through runStoreContract.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeRef, ErrorCode, type Resource } from '../../config/index.ts';
import type { WriteOp } from './store.ts';
import {
  codeOf,
  EventLog,
  mesh,
  meta,
  refOf,
  rejectsWith,
  rev,
  vs,
  vsRef,
  type WithStore,
} from './store-contract-kit.ts';

export function defineObjectTests(withStore: WithStore): void {
  it(
    'create: sets uid, creationTimestamp, generation 1 and resourceVersion to its revision',
    withStore(async ({ store }) => {
      const out = await store.write([{ op: 'create', object: vs('reviews') }]);
      const got = out.results[0]?.object;
      assert.equal(out.results[0]?.action, 'created', 'create: want action created');
      assert.ok(got, 'create: want the stored object in the result');
      assert.equal(
        got.metadata.resourceVersion,
        out.revision,
        'create: want resourceVersion = outcome revision',
      );
      assert.match(got.metadata.uid, /.+/, 'create: want a uid');
      assert.match(
        got.metadata.creationTimestamp,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
        'want RFC 3339 seconds',
      );
      assert.equal(got.metadata.generation, 1, 'create: want generation 1');
      assert.deepEqual(await store.get(refOf(got)), got, 'get: want what create returned');
      assert.equal(await store.currentRevision(), out.revision, 'currentRevision: want the create revision');
    }),
  );

  it(
    'get: returns undefined when the object is absent, finds cluster-scoped objects by namespace ""',
    withStore(async ({ store }) => {
      assert.equal(
        await store.get({ kind: 'VirtualService', namespace: 'default', name: 'nope' }),
        undefined,
      );
      await store.write([{ op: 'create', object: mesh('default') }]);
      const got = await store.get({ kind: 'MeshConfig', namespace: '', name: 'default' });
      assert.equal(got?.metadata.name, 'default', 'get MeshConfig default: want the cluster-scoped object');
    }),
  );

  // Each case runs on a store holding VirtualService default/a, created at v1 then updated at v2.
  const failures: { name: string; op: (v1: string) => WriteOp; want: ErrorCode; isStale?: true }[] = [
    {
      name: 'create of an existing object',
      op: () => ({ op: 'create', object: vs('a') }),
      want: ErrorCode.StoreAlreadyExists,
    },
    {
      name: 'update of a missing object',
      op: () => ({ op: 'update', object: vs('b') }),
      want: ErrorCode.StoreNotFound,
    },
    {
      name: 'delete of a missing object',
      op: () => ({ op: 'delete', ref: vsRef('b') }),
      want: ErrorCode.StoreNotFound,
    },
    {
      name: 'update at a stale version',
      op: (v1) => ({ op: 'update', object: vs('a', { v: 3 }, { resourceVersion: v1 }) }),
      want: ErrorCode.StoreConflict,
      isStale: true,
    },
    {
      name: 'apply at a stale version',
      op: (v1) => ({ op: 'apply', object: vs('a', { v: 3 }, { resourceVersion: v1 }) }),
      want: ErrorCode.StoreConflict,
      isStale: true,
    },
    {
      name: 'delete at a stale version',
      op: (v1) => ({ op: 'delete', ref: vsRef('a'), resourceVersion: v1 }),
      want: ErrorCode.StoreConflict,
      isStale: true,
    },
    {
      name: 'apply with a version of a missing object',
      op: (v1) => ({ op: 'apply', object: vs('b', {}, { resourceVersion: v1 }) }),
      want: ErrorCode.StoreConflict,
    },
  ];
  for (const c of failures) {
    const code = c.want;
    it(
      `write: fails with ${code} and writes nothing on ${c.name}`,
      withStore(async ({ store }) => {
        const v1 = (await store.write([{ op: 'create', object: vs('a', { v: 1 }) }])).revision;
        const v2 = (await store.write([{ op: 'update', object: vs('a', { v: 2 }) }])).revision;
        const err = await rejectsWith(store.write([c.op(v1)]), code, c.name);
        assert.equal(err.details?.opIndex, 0, `${c.name}: want details.opIndex 0`);
        assert.equal(await store.currentRevision(), v2, `${c.name}: want the revision unmoved`);
        if (c.isStale) {
          for (const part of [describeRef(vsRef('a')), v1, v2, 'get the object again']) {
            assert.ok(
              err.message.includes(part),
              `conflict message should mention "${part}": ${err.message}`,
            );
          }
        }
      }),
    );
  }

  it(
    'list: sorts by namespace then name and answers at the current revision',
    withStore(async ({ store }) => {
      for (const [ns, n] of [
        ['b', 'x'],
        ['a', 'z'],
        ['b', 'a'],
        ['a', 'b'],
      ] as const) {
        await store.write([{ op: 'create', object: vs(n, {}, { namespace: ns }) }]);
      }
      await store.write([{ op: 'create', object: mesh('default') }]);
      const all = await store.list({ kind: 'VirtualService' });
      const names = all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
      assert.deepEqual(names, ['a/b', 'a/z', 'b/a', 'b/x'], 'list: want namespace then name order');
      assert.equal(
        all.resourceVersion,
        await store.currentRevision(),
        'list: want resourceVersion = current',
      );
      const inB = await store.list({ kind: 'VirtualService', namespace: 'b' });
      assert.deepEqual(
        names.slice(2),
        inB.items.map((o) => `b/${o.metadata.name}`),
        'list namespace b: want b only',
      );
      for (const o of all.items)
        assert.ok(rev(o) <= BigInt(all.resourceVersion), 'list: item newer than the list');
    }),
  );

  it(
    'update: keeps uid and creationTimestamp, bumps generation only when content outside metadata changes',
    withStore(async ({ store }) => {
      const first = (await store.write([{ op: 'create', object: vs('a', { v: 1 }) }])).results[0]!.object;
      const steps: { name: string; object: Resource; wantGeneration: number }[] = [
        {
          name: 'labels change',
          object: { ...vs('a', { v: 1 }), metadata: { ...meta('a'), labels: { app: 'x' } } },
          wantGeneration: 1,
        },
        {
          name: 'spec change',
          object: { ...vs('a', { v: 2 }), metadata: { ...meta('a'), labels: { app: 'x' } } },
          wantGeneration: 2,
        },
        {
          name: 'annotations change',
          object: { ...vs('a', { v: 2 }), metadata: { ...meta('a'), annotations: { n: 'y' } } },
          wantGeneration: 2,
        },
        {
          name: 'extra top-level field',
          object: { ...vs('a', { v: 2 }), secrets: ['s'] },
          wantGeneration: 3,
        },
      ];
      let previous = first;
      for (const s of steps) {
        const got = (await store.write([{ op: 'update', object: s.object }])).results[0]!.object;
        assert.equal(got.metadata.uid, first.metadata.uid, `${s.name}: want uid kept`);
        assert.equal(
          got.metadata.creationTimestamp,
          first.metadata.creationTimestamp,
          `${s.name}: want creationTimestamp kept`,
        );
        assert.equal(
          got.metadata.generation,
          s.wantGeneration,
          `${s.name}: want generation ${s.wantGeneration}`,
        );
        assert.ok(rev(got) > rev(previous), `${s.name}: want resourceVersion to move past ${rev(previous)}`);
        previous = got;
      }
    }),
  );

  it(
    'apply: creates, configures, and writes nothing when content is unchanged',
    withStore(async ({ store }) => {
      const created = await store.write([{ op: 'apply', object: vs('a', { v: 1 }) }]);
      assert.equal(created.results[0]?.action, 'created', 'first apply: want created');
      const stored = created.results[0]!.object;
      const log = new EventLog();
      const watch = await store.watch({ fromRevision: created.revision }, log.onEvent);
      // The stored object itself, store-managed metadata and all, is unchanged content too.
      for (const object of [
        vs('a', { v: 1 }),
        stored,
        { ...stored, metadata: { ...stored.metadata, uid: 'other' } },
      ]) {
        const out = await store.write([{ op: 'apply', object }]);
        assert.equal(out.results[0]?.action, 'unchanged', 'same content: want unchanged');
        assert.equal(out.revision, created.revision, 'same content: want the revision unmoved');
        assert.equal(
          out.results[0]?.object.metadata.resourceVersion,
          created.revision,
          'unchanged: want old version',
        );
      }
      const changed = await store.write([{ op: 'apply', object: vs('a', { v: 2 }) }]);
      assert.equal(changed.results[0]?.action, 'configured', 'changed spec: want configured');
      await log.settle(store, 'apply: events after unchanged applies');
      assert.deepEqual(log.revisions(), [changed.revision], 'apply: want one event, for the configure only');
      watch.stop();
    }),
  );

  it(
    'delete: removes the object and returns its last state at the deleting revision',
    withStore(async ({ store }) => {
      const created = (await store.write([{ op: 'create', object: vs('a') }])).results[0]!.object;
      const out = await store.write([
        { op: 'delete', ref: vsRef('a'), resourceVersion: created.metadata.resourceVersion },
      ]);
      assert.equal(out.results[0]?.action, 'deleted', 'delete: want action deleted');
      assert.equal(
        out.results[0]?.object.metadata.resourceVersion,
        out.revision,
        'delete: want the deleting revision',
      );
      assert.equal(out.results[0]?.object.metadata.uid, created.metadata.uid, 'delete: want the last state');
      assert.equal(await store.get(vsRef('a')), undefined, 'get after delete: want undefined');
    }),
  );

  it(
    'write: a batch whose third op fails leaves nothing of the first two',
    withStore(async ({ store }) => {
      const before = await store.write([{ op: 'create', object: vs('a', { v: 1 }) }]);
      const ops: WriteOp[] = [
        { op: 'create', object: vs('b') },
        { op: 'update', object: vs('a', { v: 2 }) },
        { op: 'create', object: vs('a') },
      ];
      const err = await rejectsWith(store.write(ops), ErrorCode.StoreAlreadyExists, 'batch op 3');
      assert.equal(err.details?.opIndex, 2, 'batch: want details.opIndex 2');
      assert.equal(await store.get(vsRef('b')), undefined, 'batch: op 1 (create b) should be rolled back');
      assert.deepEqual(
        (await store.get(vsRef('a')))?.spec,
        { v: 1 },
        'batch: op 2 (update a) should be rolled back',
      );
      assert.equal(await store.currentRevision(), before.revision, 'batch: want the revision unmoved');
    }),
  );

  it(
    'write: revisions increase strictly across writes and within a batch',
    withStore(async ({ store }) => {
      const seen: bigint[] = [BigInt(await store.currentRevision())];
      const batches: WriteOp[][] = [
        [{ op: 'create', object: vs('a') }],
        [
          { op: 'create', object: vs('b') },
          { op: 'update', object: vs('a', { v: 2 }) },
          { op: 'create', object: vs('c') },
        ],
        [{ op: 'delete', ref: vsRef('b') }],
        [{ op: 'apply', object: vs('c', { v: 2 }) }],
      ];
      for (const ops of batches) {
        const out = await store.write(ops);
        const last = seen.at(-1)!;
        const revs = out.results.map((r) => rev(r.object));
        assert.ok(
          revs.every((r, i) => r > last && (i === 0 || r >= revs[i - 1]!)),
          `batch revisions ${revs} after ${last}`,
        );
        assert.equal(
          BigInt(out.revision),
          revs.at(-1),
          'outcome revision: want the last change of the batch',
        );
        seen.push(BigInt(out.revision));
      }
    }),
  );

  it(
    'write: concurrent updates from the same version let exactly one win',
    withStore(async ({ store }) => {
      const v = (await store.write([{ op: 'create', object: vs('a', { n: 0 }) }])).revision;
      const tries = [1, 2, 3, 4, 5].map((n) =>
        store.write([{ op: 'update', object: vs('a', { n }, { resourceVersion: v }) }]),
      );
      const settled = await Promise.allSettled(tries);
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s) => s.status === 'rejected');
      assert.equal(
        won.length,
        1,
        `concurrent updates at ${v}: want exactly one to succeed, got ${won.length}`,
      );
      for (const s of lost)
        assert.equal(codeOf(s.reason), ErrorCode.StoreConflict, 'losers: want ALDER_STORE_CONFLICT');
    }),
  );

  it(
    'close: is idempotent',
    withStore(async ({ store }) => {
      await store.close();
      await store.close();
    }),
  );
}
