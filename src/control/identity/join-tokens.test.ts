// Join tokens: the format, one identity per token, and each reason a token gets nothing.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJoinToken } from '../../identity/index.ts';
import { JoinTokens } from './index.ts';

const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const SA_A = { namespace: 'shop', serviceAccount: 'sa-a' };
const SA_B = { namespace: 'shop', serviceAccount: 'sa-b' };
const dir = mkdtempSync(join(tmpdir(), 'alder-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function open(options: { now?: () => number; maxLiveTokens?: number } = {}) {
  const tokens = new JoinTokens({
    path: join(dir, `t${n++}.db`),
    caFingerprint: () => FINGERPRINT,
    ...options,
  });
  after(() => tokens.close());
  return tokens;
}

function refusedFor(reason: string) {
  return (err: { code?: string; details?: { reason?: string }; message?: string }) => {
    assert.equal(
      err.code,
      'ALDER_TOKEN_REFUSED',
      `want ALDER_TOKEN_REFUSED (${reason}), got ${err.code}: ${err.message}`,
    );
    assert.equal(
      err.details?.reason,
      reason,
      `want reason ${reason}, got ${err.details?.reason}: ${err.message}`,
    );
    return true;
  };
}

describe('join tokens', () => {
  it('format: alder1.<id>.<secret>.<ca hash>, parsed back; malformed text is refused without echoing it', () => {
    const tokens = open();
    const { token, info } = tokens.create(SA_A);
    const parsed = parseJoinToken(token);
    assert.equal(parsed.id, info.id);
    assert.equal(parsed.caFingerprint, FINGERPRINT, 'want the CA fingerprint carried in the token');
    assert.match(token, /^alder1\.[0-9a-f]{12}\.[A-Za-z0-9_-]{43}\.[0-9a-f]{64}$/);
    for (const bad of [
      '',
      'alder1.x.y.z',
      token.slice(0, -1),
      `${token}0`,
      token.replace('alder1', 'alder2'),
    ]) {
      assert.throws(
        () => parseJoinToken(bad),
        (err: { code?: string; message?: string }) => {
          assert.equal(err.code, 'ALDER_TOKEN_INVALID');
          assert.ok(!err.message?.includes(parsed.secret), 'want the secret never echoed');
          return true;
        },
      );
    }
  });

  it('consume: grants the identity the token names and refuses another (ns/sa-a cannot get sa-b)', () => {
    const tokens = open();
    const { token } = tokens.create(SA_A);
    assert.throws(() => tokens.consume(token, SA_B), refusedFor('wrong-identity'));
    assert.throws(
      () => tokens.consume(token, { namespace: 'other', serviceAccount: 'sa-a' }),
      refusedFor('wrong-identity'),
    );
    const granted = tokens.consume(token, SA_A);
    assert.deepEqual([granted.namespace, granted.serviceAccount, granted.usesLeft], ['shop', 'sa-a', null]);
  });

  it('consume: expired, used up, revoked and unknown tokens get nothing, each with its reason', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const tokens = open({ now: () => now });
    const expiring = tokens.create({ ...SA_A, ttlMs: 60_000 });
    const once = tokens.create({ ...SA_A, uses: 1 });
    const revoked = tokens.create(SA_A);
    tokens.revoke(revoked.info.id);
    const wrongSecret = `${expiring.token.slice(0, 20)}${expiring.token[20] === 'A' ? 'B' : 'A'}${expiring.token.slice(21)}`;

    assert.equal(tokens.consume(once.token, SA_A).usesLeft, 0);
    assert.throws(() => tokens.consume(once.token, SA_A), refusedFor('used-up'));
    assert.throws(() => tokens.consume(revoked.token, SA_A), refusedFor('revoked'));
    assert.throws(() => tokens.consume(wrongSecret, SA_A), refusedFor('unknown'));
    assert.throws(
      () => tokens.consume(`alder1.${'0'.repeat(12)}${once.token.slice(19)}`, SA_A),
      refusedFor('unknown'),
    );
    assert.equal(tokens.consume(expiring.token, SA_A).state, 'active');
    now += 60_000;
    assert.throws(() => tokens.consume(expiring.token, SA_A), refusedFor('expired'));

    const states = Object.fromEntries(tokens.list().map((t) => [t.id, t.state]));
    assert.deepEqual(states, {
      [expiring.info.id]: 'expired',
      [once.info.id]: 'used-up',
      [revoked.info.id]: 'revoked',
    });
  });

  it('consume: a refused try spends no use; uses count down to zero', () => {
    const tokens = open();
    const { token } = tokens.create({ ...SA_A, uses: 2 });
    assert.throws(() => tokens.consume(token, SA_B), refusedFor('wrong-identity'));
    assert.equal(tokens.consume(token, SA_A).usesLeft, 1);
    assert.equal(tokens.consume(token, SA_A).usesLeft, 0);
    assert.throws(() => tokens.consume(token, SA_A), refusedFor('used-up'));
  });

  it('list and storage: secrets are never listed nor stored in clear; tokens survive a reopen', () => {
    const path = join(dir, 'reopen.db');
    const first = new JoinTokens({ path, caFingerprint: () => FINGERPRINT });
    const { token } = first.create(SA_A);
    first.close();
    const second = new JoinTokens({ path, caFingerprint: () => FINGERPRINT });
    after(() => second.close());
    const { secret } = parseJoinToken(token);
    assert.ok(!JSON.stringify(second.list()).includes(secret), 'want no secret in list()');
    assert.equal(second.consume(token, SA_A).namespace, 'shop', 'want the token valid after a reopen');
  });

  it('create: refuses bad names, ttl and uses, and caps the number of live tokens', () => {
    const tokens = open({ maxLiveTokens: 2 });
    const cases = [
      { name: 'namespace', req: { namespace: 'Bad_NS', serviceAccount: 'a' }, want: /namespace "Bad_NS"/ },
      { name: 'ttl too long', req: { ...SA_A, ttlMs: 8 * 24 * 3_600_000 }, want: /ttl must be between/ },
      { name: 'uses zero', req: { ...SA_A, uses: 0 }, want: /uses must be a whole number/ },
    ];
    for (const c of cases)
      assert.throws(() => tokens.create(c.req), { code: 'ALDER_REQUEST_INVALID', message: c.want }, c.name);
    tokens.create(SA_A);
    const second = tokens.create(SA_A);
    assert.throws(() => tokens.create(SA_A), { code: 'ALDER_TOKEN_LIMIT' });
    tokens.revoke(second.info.id);
    assert.doesNotThrow(() => tokens.create(SA_A), 'want room again once a token is revoked');
    assert.throws(() => tokens.revoke('000000000000'), { code: 'ALDER_NOT_FOUND' });
  });
});
