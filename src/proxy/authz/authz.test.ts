import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzPolicy, AuthzRule } from '../../wire/index.ts';
import type { AuthzAttributes } from './attributes.ts';
import { remoteIpOf } from './attributes.ts';
import { compileAuthz } from './compile-authz.ts';
import { connectionPlans, decide, decideWith } from './decide.ts';
import { hostTest, ipTest, pathTest, stringTest } from './value-match.ts';

describe('authz value matchers', () => {
  const cases: {
    name: string;
    test: (v: string | undefined) => boolean;
    yes: string[];
    no: (string | undefined)[];
  }[] = [
    { name: 'exact', test: stringTest('GET'), yes: ['GET'], no: ['get', 'GETX', undefined] },
    { name: 'prefix', test: stringTest('/api/*'), yes: ['/api/', '/api/x/y'], no: ['/ap', '/API/x'] },
    { name: 'suffix', test: stringTest('*.css'), yes: ['/a.css', '.css'], no: ['/a.cs'] },
    { name: 'presence', test: stringTest('*'), yes: ['', 'x'], no: [undefined] },
    {
      name: 'host without port: any port, any case',
      test: hostTest('web.shop'),
      yes: ['web.shop', 'WEB.shop:8080', 'web.shop:1'],
      no: ['web.shopx', 'xweb.shop:80', undefined],
    },
    {
      name: 'host with port',
      test: hostTest('web.shop:8080'),
      yes: ['Web.Shop:8080'],
      no: ['web.shop', 'web.shop:80'],
    },
    { name: 'host suffix', test: hostTest('*.shop'), yes: ['web.shop', 'db.shop:5432'], no: ['shop'] },
    {
      name: 'path template {*}',
      test: pathTest('/users/{*}/profile'),
      yes: ['/users/7/profile'],
      no: ['/users//profile', '/users/7/8/profile', '/users/7/profile/x'],
    },
    {
      name: 'path template {**}',
      test: pathTest('/files/{**}'),
      yes: ['/files/a', '/files/a/b/c'],
      no: ['/files/'],
    },
    {
      name: 'ip blocks, v4 and v6, mapped v4',
      test: ipTest(['10.1.0.0/16', '127.0.0.1', '2001:db8::/32']),
      yes: ['10.1.2.3', '127.0.0.1', '::ffff:10.1.0.9', '2001:db8::1'],
      no: ['10.2.0.1', '127.0.0.2', '2001:db9::1', '', undefined],
    },
  ];
  for (const c of cases) {
    it(`match: ${c.name}`, () => {
      for (const v of c.yes) assert.ok(c.test(v), `want ${JSON.stringify(v)} to match`);
      for (const v of c.no) assert.ok(!c.test(v), `want ${JSON.stringify(v)} not to match`);
    });
  }

  it('remote.ip: the x-forwarded-for entry past the trusted proxies, else the peer', () => {
    const h = ['x-forwarded-for', '1.1.1.1, 2.2.2.2', 'X-Forwarded-For', '3.3.3.3'];
    assert.equal(remoteIpOf(h, '9.9.9.9', 0), '3.3.3.3');
    assert.equal(remoteIpOf(h, '9.9.9.9', 2), '1.1.1.1');
    assert.equal(remoteIpOf(h, '9.9.9.9', 5), '9.9.9.9');
    assert.equal(remoteIpOf([], '9.9.9.9', 0), '9.9.9.9');
  });
});

describe('authz decisions', () => {
  const attrs = (o: Partial<AuthzAttributes> = {}): AuthzAttributes => ({
    principal: 'cluster.local/ns/shop/sa/client',
    sourceIp: '10.0.0.1',
    remoteIp: '10.0.0.1',
    destinationIp: '10.0.0.2',
    destinationPort: 8080,
    sni: undefined,
    http: { method: 'GET', path: '/x', host: 'web.shop', headers: [] },
    jwtClaims: undefined,
    ...o,
  });
  const rule = (r: Partial<AuthzRule>): AuthzRule => ({ from: [], to: [], when: [], ...r });
  const pol = (
    name: string,
    action: AuthzPolicy['action'],
    rules: AuthzRule[],
    dryRun = false,
  ): AuthzPolicy => ({
    name,
    action,
    dryRun,
    rules,
  });

  it('decide: no policy allows; an ALLOW policy with no rules denies; a DENY without rules never applies', () => {
    assert.equal(decide(compileAuthz([]), attrs()).allowed, true);
    assert.deepEqual(decide(compileAuthz([pol('ns/a', 'ALLOW', [])]), attrs()).deniedBy, {
      policy: 'ns/a',
      rule: -1,
    });
    assert.equal(decide(compileAuthz([pol('ns/d', 'DENY', [])]), attrs()).allowed, true);
  });

  it('decide: DENY before ALLOW, with the rule that denied', () => {
    const d = decide(
      compileAuthz([
        pol('ns/allow', 'ALLOW', [rule({})]),
        pol('ns/deny', 'DENY', [rule({ to: [{ paths: ['/y'] }] }), rule({ to: [{ paths: ['/x'] }] })]),
      ]),
      attrs(),
    );
    assert.deepEqual(d.deniedBy, { policy: 'ns/deny', rule: 1 });
  });

  it('decide: plaintext has no principal: principals ["*"] does not match, notPrincipals ["*"] does', () => {
    const plain = attrs({ principal: undefined });
    assert.equal(
      decide(compileAuthz([pol('n/a', 'ALLOW', [rule({ from: [{ principals: ['*'] }] })])]), plain).allowed,
      false,
    );
    assert.equal(
      decide(compileAuthz([pol('n/a', 'ALLOW', [rule({ from: [{ notPrincipals: ['*'] }] })])]), plain)
        .allowed,
      true,
    );
  });

  it('decide: on TCP an ALLOW rule with HTTP fields is dropped, a DENY rule keeps the rest', () => {
    const tcp = attrs({ http: undefined });
    const allowGet = compileAuthz([pol('n/a', 'ALLOW', [rule({ to: [{ methods: ['GET'] }] })])]);
    assert.equal(decide(allowGet, tcp).allowed, false, 'want the ALLOW rule unable to allow TCP');
    assert.equal(decide(allowGet, attrs()).allowed, true);
    const denyGetFromOther = compileAuthz([
      pol('n/d', 'DENY', [rule({ from: [{ principals: ['*/sa/other'] }], to: [{ methods: ['GET'] }] })]),
    ]);
    assert.equal(decide(denyGetFromOther, tcp).allowed, true, 'want the principal still required');
    assert.equal(
      decide(denyGetFromOther, attrs({ http: undefined, principal: 'cluster.local/ns/shop/sa/other' }))
        .allowed,
      false,
      'want the DENY to apply to TCP from other without its HTTP field',
    );
  });

  it('decide: dry-run policies report what they would deny and decide nothing; AUDIT is reported', () => {
    const d = decide(
      compileAuthz([pol('n/dry', 'DENY', [rule({})], true), pol('n/audit', 'AUDIT', [rule({})])]),
      attrs(),
    );
    assert.equal(d.allowed, true);
    assert.deepEqual(d.wouldDeny, { policy: 'n/dry', rule: 0 });
    assert.deepEqual(d.audited, [{ policy: 'n/audit', rule: 0 }]);
  });

  it('decide: without a verified JWT, requestPrincipals never match and notValues on claims always do', () => {
    const viaJwt = compileAuthz([
      pol('n/a', 'ALLOW', [
        rule({ from: [{ requestPrincipals: ['*'] }] }),
        rule({ when: [{ key: 'request.auth.claims[iss]', notValues: ['x'] }] }),
      ]),
    ]);
    assert.deepEqual(
      decide(viaJwt, attrs()).deniedBy,
      undefined,
      'want the notValues rule to match an absent claim',
    );
    const onlyPrincipal = compileAuthz([
      pol('n/a', 'ALLOW', [rule({ from: [{ requestPrincipals: ['*'] }] })]),
    ]);
    assert.equal(
      decide(onlyPrincipal, attrs()).allowed,
      false,
      'want requestPrincipals ["*"] to need a token',
    );
  });

  it('decide: requestPrincipals split iss/sub at the last slash, as Istio matches them', () => {
    const claims = { iss: 'https://issuer.example/realm', sub: 'alice' };
    const cases: { pattern: string; want: boolean }[] = [
      { pattern: '*', want: true },
      { pattern: 'https://issuer.example/realm/alice', want: true },
      { pattern: 'https://issuer.example/realm/*', want: true },
      { pattern: 'https://issuer.example/*', want: false },
      { pattern: '*/alice', want: true },
      { pattern: '*realm/alice', want: true },
      { pattern: '*/bob', want: false },
      { pattern: 'https://issuer.example/realm/al*', want: true },
    ];
    for (const c of cases) {
      const authz = compileAuthz([
        pol('n/a', 'ALLOW', [rule({ from: [{ requestPrincipals: [c.pattern] }] })]),
      ]);
      assert.equal(
        decide(authz, attrs({ jwtClaims: claims })).allowed,
        c.want,
        `requestPrincipals ${c.pattern} against ${claims.iss}/${claims.sub}: want ${c.want ? 'a match' : 'none'}`,
      );
      const when = compileAuthz([
        pol('n/a', 'ALLOW', [rule({ when: [{ key: 'request.auth.principal', values: [c.pattern] }] })]),
      ]);
      assert.equal(
        decide(when, attrs({ jwtClaims: claims })).allowed,
        c.want,
        `request.auth.principal ${c.pattern}`,
      );
    }
    const noSub = compileAuthz([pol('n/a', 'ALLOW', [rule({ from: [{ requestPrincipals: ['*'] }] })])]);
    assert.equal(
      decide(noSub, attrs({ jwtClaims: { iss: 'x' } })).allowed,
      false,
      'want * to need a subject',
    );
  });

  it('decide: request.auth.claims nested and list-valued, audiences (string or list), presenter', () => {
    const claims = {
      iss: 'i',
      sub: 's',
      aud: ['api', 'web'],
      azp: 'frontend',
      groups: ['dev', 'admin'],
      org: { team: 'shop', tags: ['a', 'b'] },
      level: 3,
    };
    const cases: { key: string; values?: string[]; notValues?: string[]; want: boolean }[] = [
      { key: 'request.auth.claims[groups]', values: ['admin'], want: true },
      { key: 'request.auth.claims[groups]', values: ['ops'], want: false },
      { key: 'request.auth.claims[org][team]', values: ['sh*'], want: true },
      { key: 'request.auth.claims[org][tags]', values: ['b'], want: true },
      { key: 'request.auth.claims[org]', values: ['*'], want: false },
      { key: 'request.auth.claims[level]', values: ['3'], want: false },
      { key: 'request.auth.claims[missing]', notValues: ['x'], want: true },
      { key: 'request.auth.claims[groups]', notValues: ['admin'], want: false },
      { key: 'request.auth.audiences', values: ['web'], want: true },
      { key: 'request.auth.presenter', values: ['frontend'], want: true },
      { key: 'request.auth.presenter', values: ['backend'], want: false },
    ];
    for (const c of cases) {
      const cond = {
        key: c.key,
        ...(c.values ? { values: c.values } : {}),
        ...(c.notValues ? { notValues: c.notValues } : {}),
      };
      const authz = compileAuthz([pol('n/a', 'ALLOW', [rule({ when: [cond] })])]);
      assert.equal(
        decide(authz, attrs({ jwtClaims: claims })).allowed,
        c.want,
        `${JSON.stringify(cond)}: want ${c.want}`,
      );
    }
    const single = compileAuthz([
      pol('n/a', 'ALLOW', [rule({ when: [{ key: 'request.auth.audiences', values: ['api'] }] })]),
    ]);
    assert.equal(
      decide(single, attrs({ jwtClaims: { aud: 'api' } })).allowed,
      true,
      'want a string aud to match',
    );
  });

  it('decide: plans cut down per connection decide every request as the whole plan does', () => {
    const authz = compileAuthz([
      pol('n/deny-tenant', 'DENY', [
        rule({ from: [{ principals: ['*/ns/tenant/*'] }] }),
        rule({ to: [{ paths: ['/admin*'] }] }),
      ]),
      pol('n/deny-ip', 'DENY', [
        rule({ from: [{ ipBlocks: ['10.9.0.0/16'] }], to: [{ methods: ['DELETE'] }] }),
      ]),
      pol('n/allow-client', 'ALLOW', [
        rule({ from: [{ principals: ['cluster.local/ns/shop/sa/client'] }], to: [{ ports: ['8080'] }] }),
      ]),
      pol('n/allow-ns', 'ALLOW', [
        rule({
          from: [{ namespaces: ['ops'] }, { requestPrincipals: ['*'] }],
          when: [{ key: 'request.headers[x-ok]', values: ['1'] }],
        }),
      ]),
      pol('n/allow-sni', 'ALLOW', [
        rule({
          when: [
            { key: 'connection.sni', values: ['web.shop'] },
            { key: 'remote.ip', values: ['1.2.3.4'] },
          ],
        }),
      ]),
      pol('n/dry', 'DENY', [rule({ from: [{ notNamespaces: ['shop'] }] })], true),
      pol('n/audit', 'AUDIT', [rule({ to: [{ notPorts: ['8080'] }] })]),
    ]);
    const principals = [
      undefined,
      'cluster.local/ns/shop/sa/client',
      'cluster.local/ns/tenant/sa/x',
      'cluster.local/ns/ops/sa/y',
    ];
    const requests = [
      { method: 'GET', path: '/x', headers: [] as string[] },
      { method: 'DELETE', path: '/admin/y', headers: ['x-ok', '1'] },
      { method: 'POST', path: '/z', headers: ['x-ok', '1'] },
    ];
    let compared = 0;
    for (const principal of principals)
      for (const sourceIp of ['10.9.1.1', '10.0.0.1'])
        for (const destinationPort of [8080, 9090])
          for (const sni of [undefined, 'web.shop'])
            for (const remoteIp of ['1.2.3.4', '10.0.0.1']) {
              // What only requests carry (remote.ip from x-forwarded-for, the request itself) differs from the connection's first.
              const conn = attrs({
                principal,
                sourceIp,
                destinationPort,
                sni,
                remoteIp: '9.9.9.9',
                http: undefined,
              });
              const plans = connectionPlans(authz, conn);
              for (const r of requests) {
                const a = attrs({
                  principal,
                  sourceIp,
                  destinationPort,
                  sni,
                  remoteIp,
                  http: { ...r, host: 'web.shop' },
                });
                assert.deepEqual(
                  decideWith(plans, a),
                  decide(authz, a),
                  `want the same decision for ${JSON.stringify(a)}`,
                );
                compared++;
              }
            }
    assert.equal(compared, 4 * 2 * 2 * 2 * 2 * 3);
  });
});
