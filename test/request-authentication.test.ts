// RequestAuthentication through real proxies: workload `web` serves HTTP on 8080 and HTTP/2 on 9080
// (its apps answer with the request they saw), `client` reaches it through its proxy (curl by the
// forward proxy, h2c by a Sidecar egress port). The test runs the issuer:
// an HTTP server serving a JWKS of keys generated here (switched during the test, to rotate them),
// and tokens signed here. web's proxy fetches the keys itself; each case checks what the caller
// gets (200, or Envoy's 401/403 with its reason), what the app sees (the payload and claim headers,
// no token), and how AuthorizationPolicies read the token (requestPrincipals, request.auth.claims).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { h2Request, within } from './grpc-kit.ts';
import { alder, waitForLog } from './harness.ts';
import { curl, type Mesh, TestBed } from './mesh-fixture.ts';
import { service, sidecarEgress, sidecarIngress, sidecarPort, workloadEntry, yamlDocs } from './mesh-yaml.ts';

const WEB = '127.0.162.1';
const CLIENT = '127.0.162.2';
const ISSUER = 'https://issuer.alder.test';
const HTTP = sidecarPort(8080, 'HTTP');
const HTTP2 = sidecarPort(9080, 'HTTP2');

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
type SigningKey = Awaited<ReturnType<typeof signingKey>>;

function token(key: SigningKey, claims: JWTPayload = {}, kid = key.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, sub: 'alice', aud: 'web', iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(key.privateKey);
}

function doc(kind: string, name: string, spec: string): string {
  return `apiVersion: security.istio.io/v1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: shop}\nspec:\n${spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}

const requestAuthn = (jwksUri: string) =>
  doc(
    'RequestAuthentication',
    'web-jwt',
    `selector: {matchLabels: {app: web}}
jwtRules:
- issuer: ${ISSUER}
  jwksUri: ${jwksUri}
  audiences: [web]
  outputPayloadToHeader: x-jwt-payload
  outputClaimToHeaders:
  - {header: x-jwt-sub, claim: sub}
  - {header: x-jwt-team, claim: org.team}`,
  );

/** What the app saw, as it answers: the request's headers and target. */
interface Seen {
  url: string;
  headers: Record<string, string>;
  bodyBytes?: number;
}

describe('request authentication: RequestAuthentication enforced by real proxies, feeding AuthorizationPolicy', () => {
  const bed = new TestBed('jwt');
  let mesh: Mesh;
  let base = '';
  let jwksUri = '';
  let served: object[] = [];
  let fetches = 0;
  const issuer = createServer((_req, res) => {
    fetches++;
    issuer.emit('fetched', fetches);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
  });
  let first: SigningKey;
  let second: SigningKey;
  let stranger: SigningKey;

  before(async () => {
    [first, second, stranger] = await Promise.all([signingKey('k1'), signingKey('k2'), signingKey('k1')]);
    served = [first.jwk];
    issuer.listen(0, '127.0.0.1');
    await once(issuer, 'listening');
    bed.defer(() => new Promise<void>((resolve) => issuer.close(() => resolve())));
    jwksUri = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}/jwks.json`;
    const appPort = await bed.listen(
      createServer((req, res) => {
        let bodyBytes = 0;
        req.on('data', (d: Buffer) => {
          bodyBytes += d.length;
        });
        req.on('end', () => {
          const seen: Seen = {
            url: req.url ?? '',
            headers: req.headers as Record<string, string>,
            bodyBytes,
          };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
        });
      }),
    );
    const h2App = createH2Server();
    h2App.on('stream', (stream, headers) => {
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ url: headers[':path'], headers }));
    });
    const h2Port = await bed.listen(h2App);
    base = yamlDocs(
      service('web', 'shop', [
        { name: 'http', port: 8080 },
        { name: 'http2', port: 9080 },
      ]),
      workloadEntry('web', 'shop', WEB),
      workloadEntry('client', 'shop', CLIENT),
      sidecarIngress('web', 'shop', [
        { port: HTTP, appPort },
        { port: HTTP2, appPort: h2Port },
      ]),
      sidecarEgress('client', 'shop', [{ port: HTTP2, bind: CLIENT, hosts: ['./*'] }]),
    );
    mesh = await bed.startMesh({
      yaml: yamlDocs(base, requestAuthn(jwksUri)),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${CLIENT}:15001` }],
    });
  });
  after(() => bed.close());

  /** Applies `docs` besides the mesh and waits for web's proxy to apply them. */
  async function apply(...docs: string[]): Promise<void> {
    const web = mesh.proxy('web');
    const applied = () => web.logs.filter((l) => l.msg === 'snapshot applied').length;
    const had = applied();
    writeFileSync(mesh.configFile, yamlDocs(base, ...docs));
    await waitForLog(web, () => applied() > had);
  }

  async function call(o: { token?: string; path?: string; headers?: string[]; body?: string } = {}) {
    const args = ['-x', `http://${CLIENT}:15001`];
    if (o.body !== undefined) {
      const file = join(bed.dir, 'body');
      writeFileSync(file, o.body);
      args.push('--data-binary', `@${file}`);
    }
    if (o.token !== undefined) args.push('-H', `authorization: Bearer ${o.token}`);
    for (const h of o.headers ?? []) args.push('-H', h);
    return curl([...args, `http://web.shop:8080${o.path ?? '/'}`]);
  }

  it('jwt: a valid token passes; the app sees the payload and claim headers, not the token', async () => {
    const t = await token(first, { org: { team: 'shop' } });
    const r = await call({ token: t, headers: ['x-jwt-sub: forged'] });
    assert.equal(r.status, 200, `want a valid token let through, got ${r.status} ${r.body}`);
    const seen = JSON.parse(r.body) as Seen;
    assert.equal(
      seen.headers['x-jwt-payload'],
      t.split('.')[1],
      'want the payload in x-jwt-payload, base64url',
    );
    assert.equal(
      seen.headers['x-jwt-sub'],
      'alice',
      "want the sub claim in x-jwt-sub, not the caller's forged one",
    );
    assert.equal(seen.headers['x-jwt-team'], 'shop', 'want the nested claim org.team in x-jwt-team');
    assert.equal(
      seen.headers.authorization,
      undefined,
      'want the Authorization header removed (no forwardOriginalToken)',
    );
    // The body waits, unread, while the token is checked, then reaches the app whole.
    const post = await call({ token: await token(first), body: 'x'.repeat(200_000) });
    assert.equal(
      post.status,
      200,
      `want a POST with a valid token let through, got ${post.status} ${post.body}`,
    );
    assert.equal((JSON.parse(post.body) as Seen).bodyBytes, 200_000, 'want the whole body to reach the app');
  });

  it('jwt: a request without a token passes unauthenticated, without the headers only the proxy sets', async () => {
    const r = await call({ headers: ['x-jwt-payload: forged'] });
    assert.equal(r.status, 200, `want no token let through, got ${r.status} ${r.body}`);
    assert.equal(
      (JSON.parse(r.body) as Seen).headers['x-jwt-payload'],
      undefined,
      'want the forged payload header removed',
    );
  });

  it('jwt: HTTP/2 streams are authenticated the same way: verified and forwarded, or refused with 401', async () => {
    const session = connect(`http://${CLIENT}:9080`);
    session.on('error', () => undefined);
    try {
      const ask = async (t: string) =>
        within(
          h2Request(session, { ':path': '/h2', ':authority': 'web.shop:9080', authorization: `Bearer ${t}` }),
          'the h2 response',
        );
      const good = await ask(await token(first));
      assert.equal(
        good.status,
        200,
        `want a valid token let through over h2, got ${good.status} ${good.body}`,
      );
      const seen = JSON.parse(good.body) as Seen;
      assert.equal(seen.headers['x-jwt-sub'], 'alice', 'want the claim header on the h2 request');
      assert.equal(seen.headers.authorization, undefined, 'want the token removed from the h2 request');
      const expired = await ask(await token(first, { exp: Math.floor(Date.now() / 1000) - 300 }));
      assert.deepEqual(
        [expired.status, expired.body],
        [401, 'Jwt is expired'],
        'want an expired token refused over h2',
      );
    } finally {
      session.destroy();
    }
  });

  it("jwt: tokens that do not verify get Envoy's 401 (403 for the audience) with its reason, counted and logged", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      {
        name: 'expired',
        token: await token(first, { exp: now - 300 }),
        status: 401,
        body: 'Jwt is expired',
        reason: 'JwtExpired',
      },
      {
        name: 'not yet valid',
        token: await token(first, { nbf: now + 3600 }),
        status: 401,
        body: 'Jwt not yet valid',
        reason: 'JwtNotYetValid',
      },
      {
        name: 'wrong issuer',
        token: await token(first, { iss: 'https://evil.test' }),
        status: 401,
        body: 'Jwt issuer is not configured',
        reason: 'JwtUnknownIssuer',
      },
      {
        name: 'wrong audience',
        token: await token(first, { aud: 'other' }),
        status: 403,
        body: 'Audiences in Jwt are not allowed',
        reason: 'JwtAudienceNotAllowed',
      },
      {
        name: 'bad signature',
        token: await token(stranger),
        status: 401,
        body: 'Jwt verification fails',
        reason: 'JwtVerificationFail',
      },
      {
        name: 'garbage',
        token: 'not-a-jwt',
        status: 401,
        body: 'Jwt is not in the form of Header.Payload.Signature',
        reason: 'JwtBadFormat',
      },
    ];
    const web = mesh.proxy('web');
    for (const c of cases) {
      const r = await call({ token: c.token });
      assert.equal(r.status, c.status, `${c.name}: want ${c.status}, got ${r.status} ${r.body}`);
      assert.equal(r.body, c.body, `${c.name}: want Envoy's body ${JSON.stringify(c.body)}`);
      assert.match(
        r.headers,
        /^www-authenticate: Bearer realm="http:\/\/web\.shop:8080\/", error="invalid_token"/im,
        `${c.name}: want a Bearer challenge`,
      );
      await waitForLog(
        web,
        (l) => l.msg === 'request authentication refused a token' && l.status === c.reason,
      );
    }
    const stats = await (await fetch(`${web.admin}/stats`)).text();
    assert.match(
      stats,
      /alder_proxy_jwt_rejected_total\{listener="[^"]+",issuer="https:\/\/issuer\.alder\.test",reason="JwtExpired"\} 1/,
      `want the refusal counted with its issuer and reason:\n${stats}`,
    );
    assert.match(
      stats,
      /alder_proxy_jwt_rejected_total\{listener="[^"]+",reason="JwtUnknownIssuer"\} 1/,
      'want an unknown issuer counted without an issuer label',
    );
  });

  it('jwt: keys rotated by the issuer: a token of the new key is accepted after the refetch its unknown kid starts', async () => {
    const before = fetches;
    served = [second.jwk];
    const refetched = once(issuer, 'fetched');
    const r = await call({ token: await token(second) });
    await refetched;
    assert.equal(r.status, 200, `want the new key's token accepted, got ${r.status} ${r.body}`);
    assert.equal(fetches, before + 1, 'want exactly one fetch of the keys for the new kid');
    const unknown = await call({ token: await token(first, {}, 'k-unknown') });
    assert.equal(unknown.status, 401, `want a kid the issuer never published refused, got ${unknown.status}`);
    assert.equal(
      unknown.body,
      "Jwks doesn't have key to match kid or alg from Jwt",
      "want Envoy's reason for an unknown kid",
    );
    assert.equal(fetches, before + 1, 'want no second fetch within the cooldown (anyone can send a kid)');
  });

  it('authz: requestPrincipals ["*"] needs a valid token: none gets 403, explain agrees with --jwt-claims', async () => {
    await apply(
      requestAuthn(jwksUri),
      doc(
        'AuthorizationPolicy',
        'require-jwt',
        'selector: {matchLabels: {app: web}}\nrules:\n- from:\n  - source: {requestPrincipals: ["*"]}',
      ),
    );
    const none = await call();
    assert.equal(none.status, 403, `want no token denied, got ${none.status} ${none.body}`);
    assert.equal(none.body, 'RBAC: access denied', "want Envoy's RBAC body");
    const valid = await call({ token: await token(second) });
    assert.equal(valid.status, 200, `want a valid token allowed, got ${valid.status} ${valid.body}`);
    const explain = async (claims?: string) => {
      const args = [
        'explain',
        '--admin',
        mesh.proxy('web').admin,
        '--as',
        'cluster.local/ns/shop/sa/client',
        '-o',
        'json',
      ];
      if (claims !== undefined) args.push('--jwt-claims', claims);
      const e = await alder([...args, 'http://web.shop:8080/']);
      assert.equal(e.code, 0, `want explain to exit 0: ${e.stderr}`);
      return (JSON.parse(e.stdout) as { allowed: boolean }).allowed;
    };
    assert.equal(await explain(), false, 'want explain without claims to deny, as the proxy does');
    assert.equal(
      await explain(`{"iss":"${ISSUER}","sub":"alice"}`),
      true,
      'want explain with claims to allow',
    );
  });

  it('authz: request.auth.claims[groups] allows only tokens carrying that group', async () => {
    await apply(
      requestAuthn(jwksUri),
      doc(
        'AuthorizationPolicy',
        'admins',
        'selector: {matchLabels: {app: web}}\nrules:\n- when:\n  - {key: "request.auth.claims[groups]", values: ["admin"]}',
      ),
    );
    const admin = await call({ token: await token(second, { groups: ['dev', 'admin'] }) });
    assert.equal(admin.status, 200, `want a token in group admin allowed, got ${admin.status} ${admin.body}`);
    const dev = await call({ token: await token(second, { groups: ['dev'] }) });
    assert.equal(dev.status, 403, `want a token without group admin denied, got ${dev.status} ${dev.body}`);
    const none = await call();
    assert.equal(none.status, 403, `want no token denied, got ${none.status}`);
  });

  it('jwt: an unreachable jwksUri refuses tokens (401) and lets requests without one pass', async () => {
    await apply(requestAuthn('http://127.0.0.1:9/jwks.json'));
    const r = await call({ token: await token(second) });
    assert.equal(
      r.status,
      401,
      `want a token refused while its keys cannot be fetched, got ${r.status} ${r.body}`,
    );
    assert.equal(r.body, 'Jwks remote fetch is failed', "want Envoy's reason");
    const none = await call();
    assert.equal(none.status, 200, `want a request without a token let through, got ${none.status}`);
    await waitForLog(mesh.proxy('web'), (l) => String(l.msg).startsWith('JWKS fetch failed'));
  });
});
