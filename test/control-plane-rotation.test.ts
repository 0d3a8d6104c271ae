// Certificates renew at half-life and the root rotates, all under steady load: workload
// certificates last 10 s here (so proxies renew every 5 s), then `alder ca rotate` makes a new
// root. Every request must succeed throughout, and the proxies must end on certificates from the
// new root that openssl verifies against the bundle they were pushed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type JoinedMesh, startJoinedMesh, steadyLoad } from './control-plane-kit.ts';
import { eventually, removeDir, tempDir } from './harness.ts';

const CLIENT = '127.0.93.1';
const WEB = '127.0.93.2';

/** Whether openssl verifies `chain` against the roots in `caFile` alone. */
function verifies(caFile: string, chain: string): boolean {
  try {
    return /OK/.test(
      execFileSync('openssl', ['verify', '-CAfile', caFile, chain], { encoding: 'utf8', stdio: 'pipe' }),
    );
  } catch {
    return false;
  }
}

describe('certificate renewal and root rotation under load', () => {
  let dir: string;
  let mesh: JoinedMesh;

  before(async () => {
    dir = tempDir('alder-rotate-');
    mesh = await startJoinedMesh({ dir, client: CLIENT, web: WEB, cpArgs: ['--workload-cert-ttl', '10s'] });
  });

  after(async () => {
    await mesh?.stop();
    removeDir(dir);
  });

  it('renews every proxy certificate at half-life with no failed request', async () => {
    const load = steadyLoad(CLIENT);
    const renewals = () =>
      mesh.proxies.map((p) => p.logs.filter((l) => l.msg === 'certificate renewed').length);
    await eventually(
      'each proxy renewed its certificate twice',
      async (seen) => {
        seen(renewals());
        return renewals().every((n) => n >= 2) ? true : undefined;
      },
      30_000,
    );
    const done = await load.stop();
    assert.ok(done.ok > 20, `want steady traffic during the renewals, got ${done.ok} requests`);
    assert.deepEqual(done.failed, [], `want no failed request across renewals (${done.ok} ok)`);
  });

  it('rotates the root: the bundle reaches every proxy at once, new certificates come from the new root, nothing fails', async () => {
    const load = steadyLoad(CLIENT);
    let loadResult: { ok: number; failed: string[] } | undefined;
    const before = JSON.parse((await mesh.cli(['ca', 'show', '-o', 'json'])).stdout) as {
      fingerprint: string;
    };
    const rotated = await mesh.cli(['ca', 'rotate', '-o', 'json']);
    assert.equal(rotated.code, 0, `want the rotation to succeed; stderr: ${rotated.stderr}`);
    const after = JSON.parse(rotated.stdout) as { fingerprint: string; trustBundle: string };
    assert.notEqual(after.fingerprint, before.fingerprint, 'want a new root');
    const newRootFile = join(dir, 'new-root.pem');
    const roots =
      after.trustBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    assert.equal(roots.length, 2, 'want the old and the new root trusted during the overlap');
    execFileSync('sh', ['-c', `cat > ${newRootFile}`], { input: roots[0] });
    try {
      for (const name of ['web', 'client']) {
        const state = join(dir, `state-${name}`);
        await eventually(
          `the ${name} proxy holds the two-root bundle and a certificate that chains to the new root`,
          async (seen) => {
            const bundle = readFileSync(join(state, 'root-cert.pem'), 'utf8');
            const chainsToNew = verifies(newRootFile, join(state, 'cert-chain.pem'));
            seen({ roots: (bundle.match(/BEGIN CERTIFICATE/g) ?? []).length, chainsToNew });
            return bundle.includes(roots[0]?.trim() ?? '!') && chainsToNew ? true : undefined;
          },
          20_000,
        );
      }
    } finally {
      await load.stop().then((done) => {
        loadResult = done;
      });
    }
    const done = loadResult as { ok: number; failed: string[] };
    assert.deepEqual(done.failed, [], `want no failed request across the rotation (${done.ok} ok)`);
  });
});
