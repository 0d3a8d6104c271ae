// `npm start`'s demo runs its whole tour (control plane and data plane) on a fresh store and stops
// cleanly with --once.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, removeDir, tempDir } from './harness.ts';

it('demo: applies Bookinfo, refuses the broken file, runs four proxies with mTLS, and exits 0', async (t) => {
  const dataDir = tempDir('demo');
  t.after(() => removeDir(dataDir));
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.ts'), '--once', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `want the demo to exit 0; output:\n${out}`);
  assert.match(out, /virtualservice\.networking\.istio\.io\/reviews created/, 'want the routing applied');
  assert.match(out, /workloadentry\.networking\.istio\.io\/reviews-v2 created/, 'want the workloads applied');
  assert.match(
    out,
    /reviews\.yaml:11 VirtualService default\/reviews: spec\.http\[0\]\.route\[0\]\.weight: must be between 0 and 100, got 120/,
  );
  // Round robin starts at a random place in its cycle (as Envoy's does): both, in either order.
  assert.match(out, /"version": "v1"/, 'want round robin to reach reviews v1');
  assert.match(out, /"version": "v2"/, 'want round robin to reach reviews v2');
  assert.match(
    out,
    /URI=spiffe:\/\/cluster\.local\/ns\/shop\/sa\/client/,
    'want the caller identity at the app',
  );
  assert.match(out, /x-alder-response-flags: NR/, 'want the unknown host refused with NR');
  assert.match(out, /x-alder-response-flags: UF/, 'want the stopped app reported with UF');
  assert.match(out, /Tour done\./);
});
