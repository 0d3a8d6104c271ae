// SqliteStore: the shared store contract on temp files, then what only the embedded backend promises:
// reopening, the one-store-per-file lock, bounded history, and writes that survive kill -9.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ErrorCode, isAlderError } from '../../config/index.ts';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
import type { WatchEvent, WriteOp } from './store.ts';
import { runStoreContract } from './store-contract.ts';

const fixture = join(import.meta.dirname, 'store-child.fixture.ts');
const childTimeoutMs = 30_000;

async function tempPath(t: TestContext | undefined): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'alder-store-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  t?.after(remove);
  return { path: join(dir, 'nested', 'store.db'), remove };
}

runStoreContract('sqlite', async () => {
  const { path, remove } = await tempPath(undefined);
  const store = new SqliteStore({ path, onListenerError: () => {} });
  const cleanup = async () => {
    await store.close();
    await remove();
  };
  return { store, cleanup, compact: (revision) => store.compact(revision) };
});

function open(t: TestContext, path: string, options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStore {
  const store = new SqliteStore({ ...options, path });
  t.after(() => store.close());
  return store;
}

const apply = (name: string, spec: unknown): WriteOp => ({
  op: 'apply',
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, spec },
});

describe('sqlite store', () => {
  it('sqlite store: keeps objects, revision and history when reopened after close', async (t) => {
    const { path } = await tempPath(t);
    const first = open(t, path);
    await first.write([apply('a', 1), apply('b', 1)]);
    const last = await first.write([apply('a', 2)]);
    await first.close();
    const again = open(t, path);
    assert.equal(await again.currentRevision(), last.revision, 'reopened: want the revision before close');
    assert.deepEqual((await again.get(last.results[0]!.ref))?.spec, 2, 'reopened: want a at its last spec');
    const events = collect(4, 'events from revision 0 after reopening');
    await again.watch({ fromRevision: '0' }, events.add);
    const next = await again.write([apply('c', 1)]);
    assert.ok(BigInt(next.revision) > BigInt(last.revision), 'reopened: want revisions to keep increasing');
    const revisions = (await events.done).map((e) => e.object.metadata.resourceVersion);
    assert.deepEqual(revisions, ['1', '2', '3', '4'], 'reopened: want the old history, then the new write');
  });

  const holders = [
    { name: 'this process', tryOpen: (path: string) => tryOpen(path) },
    { name: 'another process', tryOpen: (path: string) => runChild(path, 'open') },
  ];
  for (const h of holders) {
    it(`sqlite store: open fails with ALDER_STORE_UNAVAILABLE when ${h.name} has the file open`, async (t) => {
      const { path } = await tempPath(t);
      const first = open(t, path);
      assert.equal(
        await h.tryOpen(path),
        ErrorCode.StoreUnavailable,
        `second open from ${h.name}: want refused`,
      );
      await first.close();
      assert.equal(await h.tryOpen(path), 'opened', `open from ${h.name} after close: want it to succeed`);
    });
  }

  it('sqlite store: open names the path and what to do when the file is locked', async (t) => {
    const { path } = await tempPath(t);
    open(t, path);
    let err: unknown;
    try {
      new SqliteStore({ path, busyTimeoutMs: 10 });
    } catch (e) {
      err = e;
    }
    assert.ok(
      isAlderError(err) && err.message.includes(path),
      `want the path in the message, got ${String(err)}`,
    );
    assert.match(err.hint ?? '', /stop the other process/, 'want a hint saying what to do');
  });

  it('sqlite store: open fails with ALDER_STORE_UNAVAILABLE when the file is not a database', async (t) => {
    const { path } = await tempPath(t);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'not a database, just text long enough to be read as a header\n'.repeat(20));
    assert.equal(await tryOpen(path), ErrorCode.StoreUnavailable, 'file of text: want it refused');
  });

  it('sqlite store: compacts history past historyEvents, and watch from before it is gone', async (t) => {
    const { path } = await tempPath(t);
    const store = open(t, path, { historyEvents: 5 });
    for (let i = 0; i < 12; i++) await store.write([apply(`o${i % 3}`, i)]);
    const err = await rejection(store.watch({ fromRevision: '6' }, () => {}));
    assert.ok(
      isAlderError(err) && err.code === ErrorCode.StoreGone,
      `watch from 6 of 12 keeping 5: want GONE, got ${err}`,
    );
    assert.equal(err.details?.oldestRevision, '8', 'GONE details: want the oldest revision still in history');
    const events = collect(5, 'events from revision 7, the oldest kept');
    await store.watch({ fromRevision: '7' }, events.add);
    await events.done;
  });

  it('sqlite store: watch refuses a fromRevision that is not a decimal revision', async (t) => {
    const { path } = await tempPath(t);
    const store = open(t, path);
    for (const from of ['', '-1', '1.5', 'abc', '1e3']) {
      const err = await rejection(store.watch({ fromRevision: from }, () => {}));
      assert.ok(
        isAlderError(err) && err.code === ErrorCode.RequestInvalid,
        `fromRevision "${from}": want invalid`,
      );
    }
  });

  it('sqlite store: a listener that throws is reported to onListenerError', async (t) => {
    const { path } = await tempPath(t);
    const reported = collect<unknown>(1, 'the listener error to be reported');
    const store = open(t, path, { onListenerError: reported.add });
    await store.watch({ fromRevision: '0' }, () => {
      throw new Error('boom');
    });
    await store.write([apply('a', 1)]);
    const [err] = await reported.done;
    assert.equal(err instanceof Error && err.message, 'boom', 'onListenerError: want the thrown error');
  });

  it('sqlite store: every acknowledged write survives kill -9 of the writing process', async (t) => {
    const { path } = await tempPath(t);
    const child = spawn(process.execPath, [fixture, path, 'write-loop'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const acked: { revision: string; name: string }[] = [];
    const closed = new Promise((resolve) => child.on('close', resolve));
    let isKilled = false;
    onLines(child, (line) => {
      const [revision = '', name = ''] = line.split(' ');
      acked.push({ revision, name });
      if (acked.length >= 200 && !isKilled) isKilled = child.kill('SIGKILL');
    });
    await withTimeout(closed, () => `child to be killed after 200 acknowledged writes, got ${acked.length}`);
    assert.ok(isKilled, `child exited by itself after ${acked.length} writes: ${stderrOf(child)}`);
    const store = open(t, path);
    for (const [i, a] of acked.entries()) {
      assert.ok(
        i === 0 || BigInt(a.revision) > BigInt(acked[i - 1]!.revision),
        `acknowledged revisions: ${a.revision}`,
      );
      const got = await store.get({ kind: 'ConfigMap', namespace: 'crash', name: a.name });
      assert.equal(
        got?.metadata.resourceVersion,
        a.revision,
        `${a.name}: want it at acknowledged revision ${a.revision}`,
      );
    }
    const current = BigInt(await store.currentRevision());
    assert.ok(
      current >= BigInt(acked.at(-1)!.revision),
      `reopened at ${current}: want at least the last acknowledged`,
    );
    const history = collect(Number(current), `events 1..${current} replayed after the crash`);
    await store.watch({ fromRevision: '0' }, history.add);
    const revisions = (await history.done).map((e) => Number(e.object.metadata.resourceVersion));
    assert.ok(
      revisions.every((r, i) => r === i + 1),
      `replayed history: want 1..${current} with no gap`,
    );
  });
});

/** Runs the fixture in `mode` and resolves with the first line it prints. */
async function runChild(path: string, mode: string): Promise<string> {
  const child = spawn(process.execPath, [fixture, path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  onLines(child, (line) => lines.push(line));
  const closed = new Promise((resolve) => child.on('close', resolve));
  await withTimeout(closed, () => `store-child ${mode} to exit`);
  return lines[0] ?? `no output; stderr: ${stderrOf(child)}`;
}

const stderrs = new WeakMap<ChildProcess, string>();

function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  child.stderr
    ?.setEncoding('utf8')
    .on('data', (chunk: string) => stderrs.set(child, stderrOf(child) + chunk));
}

function stderrOf(child: ChildProcess): string {
  return stderrs.get(child) ?? '';
}

function withTimeout<T>(p: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${childTimeoutMs}ms waiting for ${what()}`)),
      childTimeoutMs,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Collects `count` values passed to `add`; `done` resolves with them, or fails naming `what` after 5 s. */
function collect<T = WatchEvent>(
  count: number,
  what: string,
): { add: (value: T) => void; done: Promise<T[]> } {
  const values: T[] = [];
  let finish = (_: T[]) => {};
  const settled = new Promise<T[]>((resolve) => {
    finish = resolve;
  });
  const add = (value: T) => {
    values.push(value);
    if (values.length === count) finish(values);
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${count} ${what}, got ${values.length}`)),
      5_000,
    );
  });
  return { add, done: Promise.race([settled, timeout]).finally(() => clearTimeout(timer)) };
}

/** What `p` rejects with, or undefined when it resolves. */
function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Opens and closes a store at `path`: 'opened', or the error code that refused it. */
async function tryOpen(path: string): Promise<string> {
  try {
    await new SqliteStore({ path, busyTimeoutMs: 50 }).close();
    return 'opened';
  } catch (err) {
    return isAlderError(err) ? err.code : String(err);
  }
}
