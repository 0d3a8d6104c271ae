// Watchers that stop reading cannot make the control plane buffer without bound: 20 raw TCP watch
// streams that never read while 2,000 writes of 16 KiB objects go in. Memory (VmRSS from /proc) stays
// bounded, /healthz keeps answering within a second, and each stalled watcher, when it reads again,
// finds a final 410 ERROR line; resuming from its last resourceVersion misses nothing.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const MiB = 1024 * 1024;
const VS = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';
const WATCHERS = 20;
const OBJECTS = 20;
const ROUNDS = 100;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function vs(name: string, round: number) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, annotations: { filler: `${round}-${'x'.repeat(16 * 1024)}` } },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name } }] }] },
  };
}

/** A watch over raw TCP (HTTP/1.0: no chunking) that reads its response head, then stops reading. */
async function stalledWatch(
  url: string,
  token: string,
  fromRevision: string,
): Promise<{ socket: Socket; early: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(
    `GET ${VS}?watch=true&resourceVersion=${fromRevision} HTTP/1.0\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  );
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('watch: want a response head within 5s')), 5_000);
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
  assert.match(head, /^HTTP\/1\.[01] 200/, `watch: want 200, got ${head.split('\r\n')[0]}`);
  // Body bytes that came with the head are kept; the rest stays unread.
  return { socket, early: head.slice(head.indexOf('\r\n\r\n') + 4) };
}

/** Reads the rest of a paused socket to its end; fails after `ms`. */
function readToEnd(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`watch: want the stream closed within ${ms}ms`)), ms);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.resume();
  });
}

describe('control plane API: watch backpressure', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  it('watch: 20 watchers that never read, 2,000 writes: RSS bounded, /healthz within 2 s, each closed with 410', {
    timeout: 180_000,
  }, async (t) => {
    const pid = cp.process.pid as number;
    // Warm up the write path elsewhere first, so that the baseline holds the heap writes grow to.
    for (let round = 0; round < 20; round++) await applyRound(cp, round, 'warmup');
    const start = await api(cp.url + VS);
    const from = (start.body.metadata as { resourceVersion: string }).resourceVersion;
    const sockets = await Promise.all(
      Array.from({ length: WATCHERS }, () => stalledWatch(cp.url, cp.token, from)),
    );
    const baseline = rssBytes(pid);
    let peak = baseline;
    let slowestHealthMs = 0;
    let writing = true;
    const prober = (async () => {
      while (writing) {
        const started = performance.now();
        const health = await fetch(`${cp.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        assert.equal(health.status, 200, 'want /healthz 200 during the writes');
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
        peak = Math.max(peak, rssBytes(pid));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let lastRevision = '';
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const r = await applyRound(cp, round, 'default');
        lastRevision = String(r.body.revision);
        peak = Math.max(peak, rssBytes(pid));
      }
    } finally {
      writing = false;
      await prober;
    }
    const grown = (peak - baseline) / MiB;
    t.diagnostic(`RSS grew ${grown.toFixed(0)} MiB; slowest /healthz ${Math.round(slowestHealthMs)} ms`);
    assert.ok(
      grown < 300,
      `want RSS to grow by less than 300 MiB with ${WATCHERS} stalled watchers, grew ${grown.toFixed(0)} MiB`,
    );
    // The unbounded case stalled /healthz for 12 s; 2 s leaves room for a machine busy with other work.
    assert.ok(
      slowestHealthMs < 2_000,
      `want /healthz within 2 s throughout, slowest ${Math.round(slowestHealthMs)} ms`,
    );

    const streams = await Promise.all(
      sockets.map(
        async (s) => Buffer.from(s.early, 'latin1').toString('utf8') + (await readToEnd(s.socket, 30_000)),
      ),
    );
    let lastSeen = '';
    for (const [i, stream] of streams.entries()) {
      const lines = stream.split('\n').filter((l) => l.trim() !== '');
      const final = JSON.parse(lines.at(-1) as string) as {
        type: string;
        object: { status: number; code: string };
      };
      assert.equal(final.type, 'ERROR', `watcher ${i}: want a final ERROR line, got ${final.type}`);
      assert.equal(final.object.status, 410, `watcher ${i}: want status 410`);
      assert.equal(final.object.code, 'ALDER_WATCH_EXPIRED', `watcher ${i}: want code ALDER_WATCH_EXPIRED`);
      if (i === 0) {
        const events = lines
          .slice(0, -1)
          .map((l) => JSON.parse(l) as { object: { metadata: { resourceVersion: string } } });
        lastSeen = events.at(-1)?.object.metadata.resourceVersion ?? from;
      }
    }

    // The first watcher resumes from the last revision it saw and gets every later one, in order.
    const resumed = await readRevisions(
      `${cp.url}${VS}?watch=true&resourceVersion=${lastSeen}`,
      cp.token,
      lastRevision,
    );
    const want = Array.from({ length: Number(lastRevision) - Number(lastSeen) }, (_, k) =>
      String(Number(lastSeen) + 1 + k),
    );
    assert.deepEqual(
      resumed,
      want,
      `resumed from ${lastSeen}: want every revision through ${lastRevision}, none missed`,
    );
  });
});

/** Applies the round's version of every object in `namespace`, in one batch. */
async function applyRound(cp: RunningControlPlane, round: number, namespace: string) {
  const objects = Array.from({ length: OBJECTS }, (_, i) => vs(`bp-${i}`, round));
  const text = objects.map((o) => JSON.stringify(o)).join('\n---\n');
  const r = await api(`${cp.url}/alder/v1/apply`, {
    method: 'POST',
    body: { namespace, sources: [{ name: `round-${round}.yaml`, text }] },
  });
  assert.equal(
    r.status,
    200,
    `apply round ${round}: want 200, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`,
  );
  return r;
}

/** Watches and collects resourceVersions until `until` arrives; fails after 30 s. */
async function readRevisions(url: string, token: string, until: string): Promise<string[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  const seen: string[] = [];
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    assert.equal(res.status, 200, `resume: want 200, got ${res.status}`);
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const e = JSON.parse(buffer.slice(0, nl)) as {
          type: string;
          object: { metadata: { resourceVersion: string } };
        };
        buffer = buffer.slice(nl + 1);
        assert.notEqual(e.type, 'ERROR', 'resume: a reading client must not be closed');
        seen.push(e.object.metadata.resourceVersion);
        if (e.object.metadata.resourceVersion === until) return seen;
      }
    }
  } catch (err) {
    if (controller.signal.aborted)
      assert.fail(`resume: want revision ${until} within 30s, got ${seen.length} events`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return seen;
}
