// `alder token` against a real control plane: create, list and revoke round trip, the API's
// answers, the CA files the control plane made, and usage mistakes.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alder, api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const TOKEN = /^alder1\.([0-9a-f]{12})\.[A-Za-z0-9_-]{43}\.([0-9a-f]{64})$/;

describe('alder token', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  it('create, ls, revoke: a token is shown once, listed without its secret, and revoked', async () => {
    const created = await alder(
      ['token', 'create', '-n', 'shop', '--service-account', 'cart', '--ttl', '2h', '--uses', '3'],
      { server: cp.url },
    );
    assert.equal(created.code, 0, `want exit 0, got ${created.code}: ${created.stderr}`);
    const token = created.stdout.trim();
    const m = TOKEN.exec(token);
    assert.ok(
      m !== null,
      `want one alder1.<id>.<secret>.<ca-hash> line on stdout, got ${JSON.stringify(created.stdout)}`,
    );
    const id = m[1] as string;
    const ready = cp.logs.find((l) => l.msg === 'control plane ready');
    assert.equal(`sha256:${m[2]}`, ready?.caFingerprint, "want the token to carry the CA root's fingerprint");
    assert.match(created.stderr, /grants shop\/cart, usable 3 times until/);
    assert.match(created.stderr, /alder proxy --control-plane URL --token TOKEN/);

    const ls = await alder(['token', 'ls'], { server: cp.url });
    assert.equal(ls.code, 0, ls.stderr);
    const [header, row] = ls.stdout.trim().split('\n');
    assert.match(header ?? '', /^ID\s+NAMESPACE\s+SERVICE-ACCOUNT\s+EXPIRES\s+USES-LEFT\s+STATE$/);
    assert.match(
      row ?? '',
      new RegExp(`^${id}\\s+shop\\s+cart\\s+\\S+Z\\s+3\\s+active$`),
      `want the token listed, got ${ls.stdout}`,
    );
    assert.ok(!ls.stdout.includes(token.split('.')[2] as string), 'want no secret in the list');
    const json = await alder(['token', 'ls', '-o', 'json'], { server: cp.url });
    assert.ok(!json.stdout.includes(token.split('.')[2] as string), 'want no secret in the JSON list');
    assert.equal(JSON.parse(json.stdout).items[0].id, id);

    const revoked = await alder(['token', 'revoke', id], { server: cp.url });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `token ${id} revoked\n`);
    const after = await alder(['token', 'ls'], { server: cp.url });
    assert.match(
      after.stdout,
      new RegExp(`^${id}\\s.*\\srevoked$`, 'm'),
      `want the token shown revoked, got ${after.stdout}`,
    );

    const unknown = await alder(['token', 'revoke', '000000000000'], { server: cp.url });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: no join token with id "000000000000"\nhint: list tokens/);
  });

  it('create -o json, and the API refuses a bad body with a Status', async () => {
    const created = await alder(
      ['token', 'create', '--namespace', 'shop', '--service-account', 'web', '-o', 'json'],
      { server: cp.url },
    );
    assert.equal(created.code, 0, created.stderr);
    const body = JSON.parse(created.stdout);
    assert.match(body.token, TOKEN);
    assert.deepEqual(
      [body.namespace, body.serviceAccount, body.usesLeft, body.state],
      ['shop', 'web', null, 'active'],
    );
    const hour = Date.parse(body.expiresAt) - Date.parse(body.createdAt);
    assert.equal(hour, 3_600_000, 'want a 1 h default ttl');

    const bad = await api(`${cp.url}/alder/v1/tokens`, {
      method: 'POST',
      body: { namespace: 'shop', serviceAccount: 'web', ttl: 'soon' },
    });
    assert.equal(bad.status, 400, `want 400, got ${bad.status}`);
    assert.equal(bad.body.code, 'ALDER_REQUEST_INVALID');
    const put = await api(`${cp.url}/alder/v1/tokens`, { method: 'PUT', body: {} });
    assert.equal(put.status, 405);
  });

  it('usage mistakes exit 2 with a hint', async () => {
    const cases = [
      { args: ['token'], want: /token needs a verb/ },
      { args: ['token', 'create', '-n', 'shop'], want: /needs --namespace NS and --service-account SA/ },
      {
        args: ['token', 'create', '-n', 'shop', '--service-account', 'a', '--uses', '0'],
        want: /--uses must be/,
      },
      { args: ['token', 'burn'], want: /unknown verb "burn"/ },
    ];
    for (const c of cases) {
      const r = await alder(c.args, { server: cp.url });
      assert.equal(r.code, 2, `${c.args.join(' ')}: want exit 2, got ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, c.want, c.args.join(' '));
      assert.match(r.stderr, /hint: run `alder token --help`/);
    }
    const help = await alder(['token', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /alder token create --namespace NS --service-account SA/);
  });

  it('the control plane made its CA in <dataDir>/ca with a private key', () => {
    assert.equal(statSync(join(cp.dataDir, 'ca', 'root-key.pem')).mode & 0o777, 0o600);
    assert.ok(statSync(join(cp.dataDir, 'ca', 'root-cert.pem')).isFile());
    assert.ok(statSync(join(cp.dataDir, 'tokens.db')).isFile());
  });
});
