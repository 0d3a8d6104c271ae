// The store contract, watch half: replay then live, no gap or repeat when writes race the replay,
// filters, resuming, compaction (GONE), revisions from the future, and misbehaving listeners.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCode, type Resource } from '../../config/index.ts';
import type { Watch, WatchQuery, WriteOutcome } from './store.ts';
import {
  applyN,
  EventLog,
  eventType,
  matches,
  mesh,
  rejectsWith,
  rev,
  vs,
  vsRef,
  type WithStore,
} from './store-contract-kit.ts';

export function defineWatchTests(withStore: WithStore): void {
  it(
    'watch: replays then streams every change in order, one event per change',
    withStore(async ({ store }) => {
      const base = await store.currentRevision();
      const outs = [
        await store.write([{ op: 'create', object: vs('a') }]),
        await store.write([
          { op: 'create', object: vs('b') },
          { op: 'update', object: vs('a', { v: 2 }) },
        ]),
        await store.write([{ op: 'delete', ref: vsRef('b') }]),
      ];
      const log = new EventLog();
      const watch = await store.watch({ fromRevision: base }, log.onEvent);
      outs.push(await store.write([{ op: 'update', object: vs('a', { v: 3 }) }]));
      await log.settle(store, 'watch from the start');
      const want = outs.flatMap((o) =>
        o.results.map((r) => `${eventType(r.action)} ${r.object.metadata.name}@${rev(r.object)}`),
      );
      const got = log.events.map((e) => `${e.type} ${e.object.metadata.name}@${rev(e.object)}`);
      assert.deepEqual(got, want, 'watch: want every change, in order, DELETED at the deleting revision');
      watch.stop();
    }),
  );

  it(
    'watch: neither misses nor repeats events when writes race the replay',
    withStore(async ({ store }) => {
      const outs: WriteOutcome[] = [];
      for (let i = 0; i < 20; i++) outs.push(await store.write([applyN(i)]));
      const from = outs[9]!.revision;
      const log = new EventLog();
      const racing: Promise<WriteOutcome>[] = [];
      let watching: Promise<Watch> | undefined;
      for (let i = 20; i < 120; i++) {
        racing.push(store.write([applyN(i)]));
        if (i === 60) watching = store.watch({ fromRevision: from }, log.onEvent);
      }
      outs.push(...(await Promise.all(racing)));
      const watch = await watching!;
      await log.settle(store, `watch from ${from} during 100 writes`);
      // Sorted: a backend with real concurrency may commit racing writes out of call order.
      const want = outs
        .map((o) => o.revision)
        .filter((r) => BigInt(r) > BigInt(from))
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      assert.deepEqual(
        log.revisions(),
        want,
        `watch from ${from}: want exactly the ${want.length} later revisions`,
      );
      watch.stop();
    }),
  );

  const filters: { name: string; query: Omit<WatchQuery, 'fromRevision'>; sentinel: Resource }[] = [
    { name: 'kind', query: { kind: 'VirtualService' }, sentinel: vs('zz', {}, { namespace: 'c' }) },
    {
      name: 'namespace',
      query: { namespace: 'a' },
      sentinel: { ...mesh('zz'), metadata: { name: 'zz', namespace: 'a' } },
    },
    {
      name: 'kind and namespace',
      query: { kind: 'VirtualService', namespace: 'b' },
      sentinel: vs('zz', {}, { namespace: 'b' }),
    },
    { name: 'cluster scope', query: { kind: 'MeshConfig', namespace: '' }, sentinel: mesh('zz') },
  ];
  for (const f of filters) {
    it(
      `watch: delivers only matching events, replayed and live, when filtered by ${f.name}`,
      withStore(async ({ store }) => {
        const objects = [
          vs('x', {}, { namespace: 'a' }),
          vs('y', {}, { namespace: 'b' }),
          mesh('m'),
          { ...mesh('n'), metadata: { name: 'n', namespace: 'a' } },
        ];
        const base = await store.currentRevision();
        const outs = [await store.write(objects.map((object) => ({ op: 'create', object })))];
        const log = new EventLog();
        const watch = await store.watch({ fromRevision: base, ...f.query }, log.onEvent);
        outs.push(
          await store.write(
            objects.map((object) => ({ op: 'apply', object: { ...object, spec: { v: 2 } } })),
          ),
        );
        await log.settle(store, `watch filtered by ${f.name}`, f.sentinel);
        const want = outs
          .flatMap((o) => o.results.map((r) => r.object))
          .filter((o) => matches(f.query, o))
          .map((o) => o.metadata.resourceVersion);
        assert.deepEqual(
          log.revisions(),
          want,
          `filter ${JSON.stringify(f.query)}: want matching revisions only`,
        );
        watch.stop();
      }),
    );
  }

  it(
    'watch: resumed from the last revision it saw, gets exactly the rest',
    withStore(async ({ store }) => {
      const base = await store.currentRevision();
      const outs: WriteOutcome[] = [];
      const first = new EventLog();
      const w1 = await store.watch({ fromRevision: base }, first.onEvent);
      for (let i = 0; i < 5; i++) outs.push(await store.write([applyN(i)]));
      await first.until(() => first.events.length >= 3, 'first watch: 3 events');
      w1.stop();
      const lastSeen = first.revisions()[2]!;
      for (let i = 5; i < 10; i++) outs.push(await store.write([applyN(i)]));
      const second = new EventLog();
      const w2 = await store.watch({ fromRevision: lastSeen }, second.onEvent);
      await second.settle(store, `resumed watch from ${lastSeen}`);
      assert.deepEqual(
        second.revisions(),
        outs.slice(3).map((o) => o.revision),
        `resume from ${lastSeen}: want the rest`,
      );
      w2.stop();
    }),
  );

  it(
    'watch: fails with ALDER_STORE_GONE when the history after fromRevision is compacted',
    withStore(async ({ store, compact }, t) => {
      if (!compact) return t.skip('the harness has no compact');
      const base = await store.currentRevision();
      const outs: WriteOutcome[] = [];
      for (let i = 0; i < 5; i++) outs.push(await store.write([applyN(i)]));
      await compact(outs[3]!.revision);
      for (const from of [base, outs[1]!.revision]) {
        await rejectsWith(
          store.watch({ fromRevision: from }, () => {}),
          ErrorCode.StoreGone,
          `watch from ${from}`,
        );
      }
      const log = new EventLog();
      const watch = await store.watch({ fromRevision: outs[3]!.revision }, log.onEvent);
      await log.settle(store, 'watch from the compaction point');
      assert.deepEqual(
        log.revisions(),
        [outs[4]!.revision],
        'watch from the compaction point: want what follows',
      );
      watch.stop();
    }),
  );

  it(
    'watch: from a revision ahead of the store delivers live events only',
    withStore(async ({ store }) => {
      await store.write([applyN(0)]);
      const ahead = String(BigInt(await store.currentRevision()) + 1000n);
      const log = new EventLog();
      const watch = await store.watch({ fromRevision: ahead }, log.onEvent);
      const out = await store.write([applyN(1)]);
      await log.settle(store, `watch from ${ahead}`);
      assert.deepEqual(log.revisions(), [out.revision], `watch from ${ahead}: want the live write only`);
      watch.stop();
    }),
  );

  it(
    'watch: a listener that throws breaks neither the store nor other watchers; stop ends delivery',
    withStore(async ({ store }) => {
      const base = await store.currentRevision();
      let thrown = 0;
      const thrower = await store.watch({ fromRevision: base }, () => {
        thrown++;
        throw new Error('listener failure (expected by the test)');
      });
      const stopped = new EventLog();
      const toStop = await store.watch({ fromRevision: base }, stopped.onEvent);
      toStop.stop();
      const log = new EventLog();
      const watch = await store.watch({ fromRevision: base }, log.onEvent);
      const outs = [await store.write([applyN(0)]), await store.write([applyN(1)])];
      await log.settle(store, 'healthy watcher beside a throwing one');
      assert.deepEqual(
        log.revisions(),
        outs.map((o) => o.revision),
        'healthy watcher: want both writes',
      );
      assert.ok(thrown >= 2, `throwing listener: want it called for each event, got ${thrown}`);
      assert.equal(stopped.events.length, 0, 'stopped watcher: want no events');
      thrower.stop();
      watch.stop();
    }),
  );
}
