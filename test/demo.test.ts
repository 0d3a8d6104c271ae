// `npm start` as a newcomer runs it: from a clean clone of the repository, in a process group of its
// own as a terminal runs it, stopped with Ctrl-C (SIGINT to the whole group). Checks what the demo
// promises: productpage answers through the mesh with reviews from more than one version and
// ratings over gRPC, the load succeeds above 99% while the fault on ratings fires, and nothing is
// left running or listening afterwards.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, removeDir, tempDir } from './harness.ts';

const PRODUCTPAGE = 'http://127.10.0.1:9080';
const LOADGEN_STATS = 'http://127.110.0.8:9099/stats';

it('npm start from a clean clone: a living mesh within 60 s, load above 99% with the fault firing, and Ctrl-C leaves nothing behind', async (t) => {
  const clone = tempDir('clone');
  t.after(() => removeDir(clone));
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('ALDER_')) delete env[name];
  const demo = spawn('npm', ['start'], {
    cwd: clone,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  demo.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  demo.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  const interrupt = () => {
    try {
      process.kill(-(demo.pid as number), 'SIGINT');
    } catch {
      // the group is gone already
    }
  };
  t.after(async () => {
    if (demo.exitCode === null) {
      interrupt();
      await exited;
    }
  });

  const readyAt = await waitFor(
    () => /The mesh is ready \(([\d.]+)s\)/.exec(out)?.[1],
    120_000,
    () => out,
  );
  assert.ok(Number(readyAt) < 60, `want the demo ready within 60 s, it took ${readyAt} s\n${out}`);
  assert.match(out, /Open http:\/\/127\.10\.0\.1:9080\/productpage/, 'want the URL to open');
  assert.match(out, /npx alder proxy-status/, 'want commands to try');

  // Through the mesh: productpage's proxy takes the request, the app calls details and reviews
  // through it, reviews v2/v3 call ratings over gRPC, ratings reads the kv store over TCP.
  const versions = new Set<string>();
  let stars = 0;
  for (let i = 0; i < 40 && (versions.size < 2 || stars === 0); i++) {
    const r = await fetch(`${PRODUCTPAGE}/api/v1/products/0`, { signal: AbortSignal.timeout(10_000) });
    const body = (await r.json()) as {
      reviewsVersion?: string;
      reviews?: { reviews?: { rating?: { stars?: number } }[] };
    };
    if (r.status !== 200) continue;
    versions.add(String(body.reviewsVersion));
    if (body.reviews?.reviews?.some((rv) => (rv.rating?.stars ?? 0) > 0)) stars++;
  }
  assert.ok(versions.size >= 2, `want reviews from more than one version, saw ${[...versions].join(', ')}`);
  assert.ok(stars > 0, 'want ratings (over gRPC) in reviews v2/v3 answers');
  const html = await (await fetch(`${PRODUCTPAGE}/productpage?user=jason`)).text();
  assert.match(html, /<html/i, 'want an HTML page for the browser');

  // The load ran long enough to meet the fault on ratings many times; the retries absorb it.
  const node = /admin (http:\/\/127\.0\.0\.1:\d+)\/workloads/.exec(out)?.[1];
  assert.ok(node !== undefined, `want the node proxy's admin URL printed\n${out}`);
  const stats = await waitFor(
    async () => {
      const s = (await (await fetch(LOADGEN_STATS)).json()) as { sent: number; successRate: number };
      return s.sent >= 75 ? s : undefined;
    },
    60_000,
    () => 'the load generator to send 75 requests',
  );
  assert.ok(
    stats.successRate > 0.99,
    `want more than 99% of the load to succeed, got ${JSON.stringify(stats)}`,
  );
  let faults = 0;
  for (const v of ['v2', 'v3']) {
    const text = await (
      await fetch(`${node}/workloads/bookinfo/reviews-${v}-127.10.0.${v === 'v2' ? 4 : 5}/stats`)
    ).text();
    faults += Number(/alder_proxy_local_replies_total\{[^}]*flag="FI"\} (\d+)/.exec(text)?.[1] ?? 0);
  }
  assert.ok(
    faults > 0,
    'want the fault on ratings to have fired (FI replies at reviews v2/v3) while the load succeeded',
  );

  // Ctrl-C, as a terminal sends it: to the whole process group.
  interrupt();
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 45_000))]);
  assert.notEqual(code, 'hung', `want the demo to stop within 45 s of Ctrl-C\n${out.slice(-3000)}`);
  assert.match(out, /stopped every process the demo started/, out.slice(-2000));
  const left = processesUnder(clone);
  assert.deepEqual(left, [], 'want no process of the demo left running');
  for (const [host, port] of [
    ['127.10.0.1', 9080],
    ['127.110.0.8', 9099],
    ['127.10.0.6', 15008],
    ['127.0.0.1', 15020],
  ] as const) {
    assert.equal(
      await isListening(host, port),
      false,
      `want nothing listening on ${host}:${port} after Ctrl-C`,
    );
  }
});

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) assert.fail(`not within ${ms / 1000}s: ${what().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Processes whose command line names `dir` (the clone): the demo's own. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
