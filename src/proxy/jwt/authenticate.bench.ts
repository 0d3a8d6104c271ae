// Micro-benchmark of the request authentication filter: µs per request for a request without a token
// (the sanitizing and the search for one), and for valid tokens of each common algorithm: a new token
// each time (its signature checked; one at a time, and 64 at once, since WebCrypto runs the checks on
// libuv's thread pool) and the same token again (a hit of the token cache).
// Run: node src/proxy/jwt/authenticate.bench.ts

import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { IncomingRequest } from '../http/index.ts';
import { authenticate } from './authenticate.ts';
import { compileAuthn } from './compile-authn.ts';

const ROUNDS = 2_000;

const request = (headers: string[]): IncomingRequest => ({
  method: 'GET',
  path: '/api/items?page=2',
  authority: 'web.shop:8080',
  scheme: 'http',
  headers: ['accept', '*/*', 'user-agent', 'bench', ...headers],
  framing: 'none',
  contentLength: -1,
  version: '1.1',
});

async function timeIt(name: string, run: (i: number) => unknown, concurrency: number): Promise<void> {
  for (let i = 0; i < 200; i++) await run(i);
  const start = performance.now();
  for (let done = 0; done < ROUNDS; done += concurrency) {
    await Promise.all(Array.from({ length: concurrency }, (_, k) => run(done + k)));
  }
  const us = ((performance.now() - start) * 1000) / ROUNDS;
  console.log(`${name.padEnd(44)} ${us.toFixed(1).padStart(8)} µs/request`);
}

for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] });
  const authn = compileAuthn(
    [
      {
        policy: 'shop/jwt',
        issuer: 'https://issuer.example',
        audiences: ['web'],
        jwks,
        fromHeaders: [],
        fromParams: [],
        fromCookies: [],
        outputPayloadToHeader: 'x-jwt-payload',
        outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }],
        forwardOriginalToken: false,
        spaceDelimitedClaims: [],
        timeoutMs: 5000,
      },
    ],
    { previous: undefined, onFetch: () => undefined },
  );
  const sign = (jti: string) =>
    new SignJWT({ scope: 'read write', groups: ['a'], jti })
      .setProtectedHeader({ alg, kid: 'k1' })
      .setIssuer('https://issuer.example')
      .setSubject('alice')
      .setAudience('web')
      .setExpirationTime('1h')
      .sign(privateKey);
  // More distinct tokens than the cache holds, taken in turn: every check misses.
  const tokens = await Promise.all(Array.from({ length: ROUNDS + 200 }, (_, i) => sign(String(i))));
  const withToken = tokens.map((t) => request(['authorization', `Bearer ${t}`]));
  if (alg === 'ES256') await timeIt('no token', () => authenticate(authn, request([])), 1);
  await timeIt(
    `${alg}, a new token, one at a time`,
    (i) => authenticate(authn, withToken[i] as IncomingRequest),
    1,
  );
  await timeIt(
    `${alg}, a new token, 64 at once`,
    (i) => authenticate(authn, withToken[i] as IncomingRequest),
    64,
  );
  await timeIt(
    `${alg}, the same token again (cached)`,
    () => authenticate(authn, withToken[0] as IncomingRequest),
    1,
  );
}
