// Bounds on what one request can cost the control plane: a real `alder control-plane` sent an 8 MiB
// apply of one VirtualService with four million bad hosts, a document with many errors, and an
// oversized object; its memory (VmRSS) is read from /proc while /healthz is polled.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** A VirtualService whose hosts are `count` numbers (each one an error: hosts are strings). */
function badHosts(name: string, count: number): string {
  return `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}}\nspec:\n  hosts: [${'1,'.repeat(count - 1)}1]\n`;
}

/** Runs `work` while watching the process: its peak RSS, and the slowest /healthz answer. */
async function watchWhile<T>(cp: RunningControlPlane, work: Promise<T>) {
  const pid = cp.process.pid as number;
  let peak = rssBytes(pid);
  let slowestHealthMs = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, rssBytes(pid));
      const started = performance.now();
      const health = await fetch(`${cp.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(health.status, 200, 'want /healthz to answer 200 during the request');
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const result = await work.finally(() => {
    done = true;
  });
  await sampler;
  return { result, peak, slowestHealthMs };
}

describe('control plane API: bounded work per request', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  it('limits: an 8 MiB apply of one object with 4 million bad hosts answers 413 fast, in bounded memory', async (t) => {
    const count = 4_000_000;
    const body = { sources: [{ name: 'huge.yaml', text: badHosts('huge', count) }] };
    assert.ok(JSON.stringify(body).length < 8 * MiB, 'the request must fit the default --max-body-bytes');
    const before = rssBytes(cp.process.pid as number);
    const started = performance.now();
    const { result, peak, slowestHealthMs } = await watchWhile(
      cp,
      api(`${cp.url}/alder/v1/apply`, { method: 'POST', body }),
    );
    const ms = performance.now() - started;
    assert.equal(
      result.status,
      413,
      `want 413, got ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`,
    );
    assert.match(
      String(result.body.message),
      /huge\.yaml:1 VirtualService huge: the object is 7\.\d MiB, over the 1\.5 MiB/,
    );
    assert.ok(ms < 5_000, `want an answer within 5 s, took ${Math.round(ms)} ms`);
    const grown = (peak - before) / MiB;
    t.diagnostic(
      `${Math.round(ms)} ms, RSS grew ${grown.toFixed(0)} MiB, slowest /healthz ${Math.round(slowestHealthMs)} ms`,
    );
    assert.ok(grown < 300, `want RSS to grow by less than 300 MiB, grew ${grown.toFixed(0)} MiB`);
    assert.ok(
      slowestHealthMs < 1_000,
      `want /healthz within 1 s during it, slowest ${Math.round(slowestHealthMs)} ms`,
    );
  });

  it('limits: a 1 MiB object with 500,000 bad hosts lists 100 errors and counts the rest', async (t) => {
    const body = { sources: [{ name: 'many.yaml', text: badHosts('many', 500_000) }] };
    const before = rssBytes(cp.process.pid as number);
    const started = performance.now();
    const { result, peak } = await watchWhile(cp, api(`${cp.url}/alder/v1/apply`, { method: 'POST', body }));
    const ms = performance.now() - started;
    assert.equal(result.status, 422, `want 422, got ${result.status}`);
    const errors = (result.body.details as { errors: { message: string }[] }).errors;
    assert.equal(errors.length, 101, `want 100 errors and one summary, got ${errors.length}`);
    assert.match(String(errors.at(-1)?.message), /^… and 499900 more problems/);
    t.diagnostic(`${Math.round(ms)} ms, RSS grew ${((peak - before) / MiB).toFixed(0)} MiB`);
    assert.ok(ms < 10_000, `want an answer within 10 s, took ${Math.round(ms)} ms`);
    const grown = (peak - before) / MiB;
    assert.ok(grown < 300, `want RSS to grow by less than 300 MiB, grew ${grown.toFixed(0)} MiB`);
    const stored = await api(`${cp.url}/apis/networking.istio.io/v1/namespaces/default/virtualservices/many`);
    assert.equal(stored.status, 404, 'want nothing stored');
  });

  it('limits: a 2 MiB object sent to its resource path answers 413 naming it and its size', async () => {
    const r = await api(`${cp.url}/apis/networking.istio.io/v1/namespaces/default/virtualservices`, {
      method: 'POST',
      body: badHosts('big', 1_000_000),
      contentType: 'application/yaml',
    });
    assert.equal(r.status, 413, `want 413, got ${r.status}`);
    assert.match(String(r.body.message), /VirtualService big: the object is 1\.9 MiB, over the 1\.5 MiB/);
  });

  it('limits: a multi-document file with one oversized document names that document by line', async () => {
    const small = badHosts('small', 1).replace('[1]', '[small]');
    const text = `${small}---\n${badHosts('large', 1_000_000)}`;
    const r = await api(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      body: { sources: [{ name: 'two.yaml', text }] },
    });
    assert.equal(r.status, 413, `want 413, got ${r.status}`);
    assert.match(String(r.body.message), /^two\.yaml:6 VirtualService large: the object is 1\.9 MiB/);
  });
});
