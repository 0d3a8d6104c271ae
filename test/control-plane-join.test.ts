// Proxies join a running control plane as a new user would: `alder control-plane`, `alder token
// create`, then `alder proxy --control-plane … --token …`. The certificate the proxy gets is checked
// with openssl; refused tokens leave the proxy with nothing; `alder apply --wait` returns with the
// change in force and no request failed; the control plane killed (-9) and restarted under load
// fails no request.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type JoinedMesh, startJoinedMesh, steadyLoad, virtualServiceHeader } from './control-plane-kit.ts';
import { alder, eventually, removeDir, startProxy, tempDir } from './harness.ts';
import { workloadEntry } from './mesh-yaml.ts';

const CLIENT = '127.0.92.1';
const WEB = '127.0.92.2';
const SPARE = '127.0.92.3';

describe('proxies join a control plane with tokens', () => {
  let dir: string;
  let mesh: JoinedMesh;
  const cli = (args: string[], stdin?: string) => mesh.cli(args, stdin);
  const createToken = (sa: string, extra: string[] = []) => mesh.createToken(sa, extra);
  const proxyArgs = (name: string, token: string) => mesh.proxyArgs(name, token);
  const viaClient = () => mesh.viaClient();

  before(async () => {
    dir = tempDir('alder-join-');
    mesh = await startJoinedMesh({
      dir,
      client: CLIENT,
      web: WEB,
      yaml: workloadEntry('spare', 'shop', SPARE),
    });
  });

  after(async () => {
    await mesh?.stop();
    removeDir(dir);
  });

  it('issues a 24 h certificate for the workload SPIFFE ID that openssl verifies, from a key that stayed with the proxy', () => {
    const state = join(dir, 'state-web');
    const verify = execFileSync(
      'openssl',
      ['verify', '-CAfile', join(state, 'root-cert.pem'), join(state, 'cert-chain.pem')],
      {
        encoding: 'utf8',
      },
    );
    assert.match(verify, /OK/, `want openssl to verify the chain; got ${verify}`);
    const text = execFileSync('openssl', ['x509', '-in', join(state, 'cert-chain.pem'), '-noout', '-text'], {
      encoding: 'utf8',
    });
    assert.match(text, /URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/, 'want the SPIFFE ID as URI SAN');
    const dates = execFileSync(
      'openssl',
      ['x509', '-in', join(state, 'cert-chain.pem'), '-noout', '-startdate', '-enddate'],
      {
        encoding: 'utf8',
      },
    );
    const [from, to] = [...dates.matchAll(/=(.+)$/gm)].map((m) => Date.parse(m[1] as string));
    const hours = ((to as number) - (from as number)) / 3_600_000;
    assert.ok(
      hours > 23.9 && hours < 24.1,
      `want a 24 h lifetime (plus a minute of skew), got ${hours.toFixed(3)} h`,
    );
    assert.equal(
      statSync(join(state, 'key.pem')).mode & 0o777,
      0o600,
      'want the key readable by its owner only',
    );
  });

  it('serves traffic between the joined proxies, and proxy-status shows both in sync', async () => {
    const r = await viaClient();
    assert.equal(r.status, 200, `want 200 through the mesh; got ${r.status} ${r.body}`);
    const status = await cli(['proxy-status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /shop\/client .*SYNCED/, `want the client SYNCED; got\n${status.stdout}`);
    assert.match(status.stdout, /shop\/web .*SYNCED/, `want the web proxy SYNCED; got\n${status.stdout}`);
    const json = JSON.parse((await cli(['proxy-status', '-o', 'json'])).stdout) as {
      items: { identity: string }[];
    };
    assert.deepEqual(json.items.map((i) => i.identity).sort(), [
      'spiffe://cluster.local/ns/shop/sa/client',
      'spiffe://cluster.local/ns/shop/sa/web',
    ]);
  });

  it('gives nothing to a token for another identity, a revoked, a used-up or an expired token', async () => {
    const tryJoin = async (token: string, name: string) => {
      const r = await alder([
        'proxy',
        '--admin',
        '127.0.0.1:0',
        ...proxyArgs('web', token).map((a) => (a.endsWith('state-web') ? join(dir, name) : a)),
      ]);
      assert.equal(r.code, 1, `want the proxy to exit 1 with ${name}; got ${r.code}\n${r.stderr}`);
      return r.stderr;
    };
    assert.match(
      await tryJoin(await createToken('client'), 'other-identity'),
      /another identity|names|client/i,
    );
    const revoked = await createToken('web');
    const id = revoked.split('.')[1] as string;
    assert.equal((await cli(['token', 'revoke', id])).code, 0);
    assert.match(await tryJoin(revoked, 'revoked'), /revoked/i);
    const once = await createToken('spare', ['--uses', '1']);
    const spareArgs = (state: string) => [
      ...['--control-plane', `127.0.0.1:${mesh.meshPort}`, '--workload', 'shop/spare', '--token', once],
      ...['--state-dir', join(dir, state), '--outbound-proxy', 'none'],
    ];
    const spare = await startProxy(spareArgs('spare-1'));
    await spare.stop();
    const reused = await alder(['proxy', '--admin', '127.0.0.1:0', ...spareArgs('spare-2')]);
    assert.equal(reused.code, 1, `want a second join with a one-use token refused; got ${reused.code}`);
    assert.match(reused.stderr, /all it allows/i, `want the reason; got ${reused.stderr}`);
    const short = await createToken('web', ['--ttl', '1s']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the token's own lifetime, not a wait for an event
    assert.match(await tryJoin(short, 'expired'), /expired/i);
  });

  it('apply --wait returns with a route change in force at every proxy, and no request failed meanwhile', async () => {
    const load = steadyLoad(CLIENT);
    const r = await cli(['apply', '--wait', '--timeout', '20s', '-f', '-'], virtualServiceHeader('waited'));
    assert.equal(r.code, 0, `want apply --wait to succeed; stderr: ${r.stderr}`);
    assert.match(r.stderr, /all 2 proxies run revision \d+/, `want the wait's outcome; got ${r.stderr}`);
    const after = await viaClient();
    const done = await load.stop();
    assert.match(after.headers, /x-route: waited/, 'want the change in force when apply --wait returns');
    assert.deepEqual(done.failed, [], `want no failed request during the change (${done.ok} ok)`);
  });

  it('keeps serving with zero failures when the control plane is killed (-9) and restarted under load', async () => {
    const load = steadyLoad(CLIENT);
    const restarted = mesh.restartControlPlane(true);
    await eventually(
      'requests served with the control plane gone or restarting',
      async () => ((await viaClient()).status === 200 ? true : undefined),
      5000,
    );
    await restarted;
    await eventually(
      'both proxies reconnected',
      async (seen) => {
        const s = await cli(['proxy-status', '-o', 'json']);
        seen(s.stdout || s.stderr);
        return s.code === 0 && (JSON.parse(s.stdout) as { items: unknown[] }).items.length === 2
          ? true
          : undefined;
      },
      20_000,
    );
    const done = await load.stop();
    assert.ok(done.ok > 0, 'want requests served during the restart');
    assert.deepEqual(done.failed, [], `want no failed request (${done.ok} ok)`);
  });
});
