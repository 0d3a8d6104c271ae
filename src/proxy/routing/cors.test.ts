import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorsPolicy } from '../../wire/index.ts';
import { compileCors } from './cors.ts';
import { req } from './routing.test-kit.ts';

const policy: CorsPolicy = {
  allowOrigins: [{ exact: 'https://a.example' }, { regex: 'https://.*\\.b\\.example' }],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['x-token', 'content-type'],
  exposeHeaders: ['x-trace'],
  maxAgeSeconds: 600,
  allowCredentials: true,
  unmatchedPreflights: 'FORWARD',
};

const preflight = (origin: string, extra: string[] = []) =>
  req({ method: 'OPTIONS', headers: ['origin', origin, 'access-control-request-method', 'PUT', ...extra] });

describe('cors', () => {
  const isPreflight: [string, ReturnType<typeof req>, boolean][] = [
    ['OPTIONS with Origin and Access-Control-Request-Method', preflight('https://a.example'), true],
    [
      'OPTIONS without Access-Control-Request-Method',
      req({ method: 'OPTIONS', headers: ['origin', 'https://a.example'] }),
      false,
    ],
    [
      'OPTIONS with an empty Origin',
      req({ method: 'OPTIONS', headers: ['origin', '', 'access-control-request-method', 'GET'] }),
      false,
    ],
    [
      'GET with both headers',
      req({ headers: ['origin', 'x', 'access-control-request-method', 'GET'] }),
      false,
    ],
  ];
  for (const [name, r, want] of isPreflight) {
    it(`cors: ${want ? 'is' : 'is not'} a preflight: ${name}`, () => {
      assert.equal(compileCors(policy).isPreflight(r), want);
    });
  }

  const origins: [string, CorsPolicy['allowOrigins'], string, boolean][] = [
    ['exact', [{ exact: 'https://a.example' }], 'https://a.example', true],
    ['exact, other origin', [{ exact: 'https://a.example' }], 'https://evil.example', false],
    ['prefix', [{ prefix: 'https://' }], 'https://x', true],
    ['regex is anchored', [{ regex: 'https://a' }], 'https://a.example', false],
    ['exact "*" allows any', [{ exact: '*' }], 'https://anything', true],
    ['regex ".*" matches "*", so allows any', [{ regex: '.*' }], 'null', true],
    ['no origins allow none', [], 'https://a.example', false],
  ];
  for (const [name, allowOrigins, origin, want] of origins) {
    it(`cors: origin ${want ? 'allowed' : 'refused'} by ${name}`, () => {
      assert.equal(compileCors({ ...policy, allowOrigins }).isOriginAllowed(origin), want);
    });
  }

  it('cors: a preflight from an allowed origin is answered with every header', () => {
    assert.deepEqual(compileCors(policy).preflight(preflight('https://x.b.example')), {
      kind: 'reply',
      status: 200,
      headers: [
        'access-control-allow-origin',
        'https://x.b.example',
        'access-control-allow-credentials',
        'true',
        'access-control-allow-methods',
        'GET,POST',
        'access-control-allow-headers',
        'x-token,content-type',
        'access-control-max-age',
        '600',
      ],
    });
  });
  it('cors: "*" methods and headers echo the request', () => {
    const { maxAgeSeconds: _, ...rest } = policy;
    const c = compileCors({ ...rest, allowMethods: ['*'], allowHeaders: ['*'], allowCredentials: false });
    const got = c.preflight(preflight('https://a.example', ['access-control-request-headers', 'x-a,x-b']));
    assert.deepEqual(got, {
      kind: 'reply',
      status: 200,
      headers: [
        'access-control-allow-origin',
        'https://a.example',
        'access-control-allow-methods',
        'PUT',
        'access-control-allow-headers',
        'x-a,x-b',
      ],
    });
  });
  it('cors: FORWARD sends an unmatched preflight to the app', () => {
    assert.deepEqual(compileCors(policy).preflight(preflight('https://evil.example')), { kind: 'forward' });
  });
  it('cors: IGNORE answers an unmatched preflight without allow-origin', () => {
    const got = compileCors({ ...policy, unmatchedPreflights: 'IGNORE' }).preflight(
      preflight('https://evil.example'),
    );
    assert.equal(got.kind, 'reply');
    if (got.kind === 'reply')
      assert.ok(!got.headers.includes('access-control-allow-origin'), `got ${got.headers}`);
  });
  it('cors: a response to an allowed origin gets allow-origin, credentials and expose-headers', () => {
    const got = compileCors(policy).responseHeaders(req({ headers: ['origin', 'https://a.example'] }));
    assert.deepEqual(got, [
      'access-control-allow-origin',
      'https://a.example',
      'access-control-allow-credentials',
      'true',
      'access-control-expose-headers',
      'x-trace',
    ]);
  });
  it('cors: a response to another origin, or without Origin, gets nothing', () => {
    const c = compileCors(policy);
    assert.deepEqual(c.responseHeaders(req({ headers: ['origin', 'https://evil.example'] })), []);
    assert.deepEqual(c.responseHeaders(req()), []);
  });
});
