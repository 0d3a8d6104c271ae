import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { JwtRule } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import { type AuthnOutcome, authenticate } from './authenticate.ts';
import { compileAuthn } from './compile-authn.ts';

const ISSUER = 'https://issuer.example';

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}
type Key = Awaited<ReturnType<typeof keyPair>>;

function sign(key: Key, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, sub: 'alice', iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

function rule(o: Partial<JwtRule>): JwtRule {
  return {
    policy: 'shop/jwt',
    issuer: ISSUER,
    audiences: [],
    fromHeaders: [],
    fromParams: [],
    fromCookies: [],
    outputClaimToHeaders: [],
    forwardOriginalToken: false,
    spaceDelimitedClaims: [],
    timeoutMs: 2000,
    ...o,
  };
}

function request(o: { headers?: string[]; path?: string; method?: string }): IncomingRequest {
  return {
    method: o.method ?? 'GET',
    path: o.path ?? '/',
    authority: 'web.shop:8080',
    scheme: 'http',
    headers: o.headers ?? [],
    framing: 'none',
    contentLength: -1,
    version: '1.1',
  };
}

const noFetch = () => undefined;

async function outcome(rules: JwtRule[], req: IncomingRequest): Promise<AuthnOutcome> {
  return authenticate(compileAuthn(rules, { previous: undefined, onFetch: noFetch }), req);
}

const header = (headers: string[], name: string) => {
  const i = headers.indexOf(name);
  return i === -1 || i % 2 === 1 ? undefined : headers[i + 1];
};

describe('jwt: request authentication', () => {
  for (const alg of ['RS256', 'RS384', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
    it(`verify: a token signed with ${alg} is verified against the key set, a forged one refused`, async () => {
      const key = await keyPair(alg, `k-${alg}`);
      const other = await keyPair(alg, `k-${alg}`);
      const r = rule({ jwks: JSON.stringify({ keys: [key.jwk] }) });
      const good = await outcome(
        [r],
        request({ headers: ['authorization', `Bearer ${await sign(key, {})}`] }),
      );
      assert.equal(good.kind, 'verified', `${alg}: want the token verified, got ${JSON.stringify(good)}`);
      const forged = await outcome(
        [r],
        request({ headers: ['authorization', `Bearer ${await sign(other, {})}`] }),
      );
      assert.deepEqual(
        forged,
        { kind: 'refused', status: 'JwtVerificationFail', issuer: ISSUER, policy: 'shop/jwt' },
        `${alg}: want a token signed by another key refused as Envoy's JwtVerificationFail`,
      );
    });
  }

  it('verify: each failure gets the status Envoy names it by', async () => {
    const key = await keyPair('ES256', 'k1');
    const now = Math.floor(Date.now() / 1000);
    const r = rule({ audiences: ['https://api.example/'], jwks: JSON.stringify({ keys: [key.jwk] }) });
    const cases: { name: string; token: string; want: string }[] = [
      {
        name: 'expired beyond the clock skew',
        token: await sign(key, { aud: 'api.example', exp: now - 120 }),
        want: 'JwtExpired',
      },
      {
        name: 'not yet valid',
        token: await sign(key, { aud: 'api.example', nbf: now + 600 }),
        want: 'JwtNotYetValid',
      },
      {
        name: 'another issuer',
        token: await sign(key, { aud: 'api.example', iss: 'https://evil.example' }),
        want: 'JwtUnknownIssuer',
      },
      {
        name: 'an audience not listed',
        token: await sign(key, { aud: ['other'] }),
        want: 'JwtAudienceNotAllowed',
      },
      { name: 'no audience at all', token: await sign(key, {}), want: 'JwtAudienceNotAllowed' },
      {
        name: 'an unknown key id',
        token: await sign(key, { aud: 'api.example' }, { kid: 'k9' }),
        want: 'JwksKidAlgMismatch',
      },
      { name: 'not three parts', token: 'abc.def', want: 'JwtBadFormat' },
      { name: 'a header that is not JSON', token: 'e30x.e30.c2ln', want: 'JwtHeaderParseError' },
      {
        name: 'alg none',
        token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.c2ln`,
        want: 'JwtHeaderNotImplementedAlg',
      },
    ];
    for (const c of cases) {
      const got = await outcome([r], request({ headers: ['authorization', `Bearer ${c.token}`] }));
      assert.equal(got.kind === 'refused' ? got.status : got.kind, c.want, `${c.name}: want ${c.want}`);
    }
    const ok = await outcome(
      [r],
      request({ headers: ['authorization', `Bearer ${await sign(key, { aud: 'http://api.example' })}`] }),
    );
    assert.equal(
      ok.kind,
      'verified',
      'want audiences compared without scheme and trailing slash, as Envoy does',
    );
  });

  it("locations: Authorization Bearer and access_token by default; else only the rule's headers, params and cookies", async () => {
    const key = await keyPair('RS256', 'k1');
    const token = await sign(key, {});
    const jwks = JSON.stringify({ keys: [key.jwk] });
    const byDefault = [rule({ jwks })];
    const cases: { name: string; rules: JwtRule[]; req: IncomingRequest; want: string }[] = [
      {
        name: 'default header',
        rules: byDefault,
        req: request({ headers: ['authorization', `Bearer ${token}`] }),
        want: 'verified',
      },
      {
        name: 'default param',
        rules: byDefault,
        req: request({ path: `/x?a=1&access_token=${token}` }),
        want: 'verified',
      },
      {
        name: 'lower-case bearer holds no token (Envoy)',
        rules: byDefault,
        req: request({ headers: ['authorization', `bearer ${token}`] }),
        want: 'anonymous',
      },
      { name: 'no token', rules: byDefault, req: request({}), want: 'anonymous' },
      {
        name: 'fromHeaders with a prefix',
        rules: [rule({ jwks, fromHeaders: [{ name: 'X-Jwt', prefix: 'Token ' }] })],
        req: request({ headers: ['x-jwt', `Token ${token}`] }),
        want: 'verified',
      },
      {
        name: 'fromHeaders: the default header is not read',
        rules: [rule({ jwks, fromHeaders: [{ name: 'x-jwt', prefix: '' }] })],
        req: request({ headers: ['authorization', 'Bearer garbage'] }),
        want: 'anonymous',
      },
      {
        name: 'fromParams',
        rules: [rule({ jwks, fromParams: ['t'] })],
        req: request({ path: `/?t=${token}` }),
        want: 'verified',
      },
      {
        name: 'fromCookies',
        rules: [rule({ jwks, fromCookies: ['session'] })],
        req: request({ headers: ['cookie', `a=b; session="${token}"`] }),
        want: 'verified',
      },
      {
        name: 'every token must verify: a bad one beside a good one refuses the request',
        rules: byDefault,
        req: request({ headers: ['authorization', `Bearer ${token}`], path: '/?access_token=a.b.c' }),
        want: 'refused',
      },
      {
        name: 'a CORS preflight passes whatever its token',
        rules: byDefault,
        req: request({
          method: 'OPTIONS',
          headers: [
            'origin',
            'https://a.example',
            'access-control-request-method',
            'POST',
            'authorization',
            'Bearer x.y.z',
          ],
        }),
        want: 'anonymous',
      },
    ];
    for (const c of cases) {
      const got = await outcome(c.rules, c.req);
      assert.equal(got.kind, c.want, `${c.name}: want ${c.want}, got ${JSON.stringify(got)}`);
    }
  });

  it('outputs: payload and claim headers set, forged ones removed, the token taken out unless forwarded', async () => {
    const key = await keyPair('ES256', 'k1');
    const token = await sign(key, {
      groups: ['a', 'b'],
      org: { team: 'web', size: 3, on: true },
      scope: 'read write',
    });
    const jwks = JSON.stringify({ keys: [key.jwk] });
    const outputs = {
      jwks,
      outputPayloadToHeader: 'x-jwt-payload',
      outputClaimToHeaders: [
        { header: 'x-sub', claim: 'sub' },
        { header: 'x-team', claim: 'org.team' },
        { header: 'x-size', claim: 'org.size' },
        { header: 'x-on', claim: 'org.on' },
        { header: 'x-groups', claim: 'groups' },
      ],
    };
    const got = await outcome(
      [rule(outputs)],
      request({
        headers: ['authorization', `Bearer ${token}`, 'x-sub', 'forged', 'x-keep', '1'],
        path: `/p?access_token=${token}&q=1`,
      }),
    );
    assert.equal(got.kind, 'verified', JSON.stringify(got));
    if (got.kind !== 'verified') return;
    assert.equal(
      header(got.headers, 'x-jwt-payload'),
      token.split('.')[1],
      'want the payload as the token carries it (base64url)',
    );
    assert.deepEqual(
      ['x-sub', 'x-team', 'x-size', 'x-on', 'x-groups', 'authorization', 'x-keep'].map((n) =>
        header(got.headers, n),
      ),
      ['alice', 'web', '3', 'true', undefined, undefined, '1'],
      'want claim headers for strings, numbers and booleans only, the forged x-sub and the token gone',
    );
    assert.equal(got.path, '/p?q=1', 'want the access_token parameter removed');
    assert.deepEqual(got.claims.scope, ['read', 'write'], 'want scope split on spaces for authorization');
    const kept = await outcome(
      [rule({ ...outputs, forwardOriginalToken: true })],
      request({ headers: ['authorization', `Bearer ${token}`] }),
    );
    assert.equal(
      kept.kind === 'verified' && header(kept.headers, 'authorization'),
      `Bearer ${token}`,
      'want the token kept with forwardOriginalToken',
    );
    const anonymous = await outcome([rule(outputs)], request({ headers: ['x-jwt-payload', 'forged'] }));
    assert.deepEqual(
      anonymous,
      { kind: 'anonymous', headers: [] },
      'want headers only the proxy sets removed from a request without a token',
    );
  });

  it('token cache: a token verified lately is decided at once; not past its exp, nor under other rules', async () => {
    const key = await keyPair('ES256', 'k1');
    const jwks = JSON.stringify({ keys: [key.jwk] });
    const authn = compileAuthn([rule({ jwks })], { previous: undefined, onFetch: noFetch });
    const req = request({ headers: ['authorization', `Bearer ${await sign(key, {})}`] });
    const first = authenticate(authn, req);
    assert.ok(first instanceof Promise, 'want the first check of a token to wait on its signature');
    assert.equal((await first).kind, 'verified');
    const again = authenticate(authn, req);
    assert.ok(!(again instanceof Promise), 'want the same token again decided without waiting');
    assert.equal(again.kind, 'verified');
    const other = compileAuthn([rule({ jwks, audiences: ['elsewhere'] })], {
      previous: authn,
      onFetch: noFetch,
    });
    const elsewhere = await authenticate(other, req);
    assert.equal(
      elsewhere.kind === 'refused' && elsewhere.status,
      'JwtAudienceNotAllowed',
      "want a new snapshot's rules to check the token afresh",
    );
  });

  it('jwksUri: fetched once by the first requests, refetched for an unknown kid, failure refuses tokens', async () => {
    const first = await keyPair('RS256', 'k1');
    const second = await keyPair('RS256', 'k2');
    let served = [first.jwk];
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const fetched: unknown[] = [];
    try {
      const authn = compileAuthn([rule({ jwksUri: `http://127.0.0.1:${port}/keys` })], {
        previous: undefined,
        onFetch: (o) => fetched.push(o),
      });
      const ask = async (key: Key) =>
        authenticate(authn, request({ headers: ['authorization', `Bearer ${await sign(key, {})}`] }));
      const [a, b] = await Promise.all([ask(first), ask(first)]);
      assert.deepEqual(
        [a.kind, b.kind, fetches],
        ['verified', 'verified', 1],
        'want two early requests to share one fetch',
      );
      served = [second.jwk];
      const rotated = await ask(second);
      assert.deepEqual(
        [rotated.kind, fetches],
        ['verified', 2],
        'want an unknown kid to fetch the keys again',
      );
      const third = await keyPair('RS256', 'k3');
      const again = await ask(third);
      assert.deepEqual(
        [again.kind === 'refused' && again.status, fetches],
        ['JwksKidAlgMismatch', 2],
        'want a second unknown kid within the cooldown refused without a fetch',
      );
      const down = compileAuthn([rule({ jwksUri: 'http://127.0.0.1:9/keys', timeoutMs: 1000 })], {
        previous: undefined,
        onFetch: noFetch,
      });
      const failed = await authenticate(
        down,
        request({ headers: ['authorization', `Bearer ${await sign(first, {})}`] }),
      );
      assert.equal(
        failed.kind === 'refused' && failed.status,
        'JwksFetchFail',
        'want an unreachable jwksUri to refuse tokens',
      );
      const none = await authenticate(down, request({}));
      assert.equal(
        none.kind,
        'anonymous',
        'want a request without a token to pass though the keys are unreachable',
      );
      for (const s of [...authn.sources.values(), ...down.sources.values()]) s.stop();
    } finally {
      server.close();
    }
  });
});
