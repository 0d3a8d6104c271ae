import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatNotEnforced, NOT_ENFORCED_KINDS, notEnforcedKinds } from './enforcement.ts';
import { KINDS } from './kinds/index.ts';

describe('enforcement', () => {
  it('enforcement: every kind listed as not enforced is a kind Alder stores', () => {
    const known = new Set(KINDS.map((k) => k.kind));
    for (const kind of NOT_ENFORCED_KINDS.keys()) {
      assert.ok(known.has(kind), `want ${kind} to be one of KINDS (a stale or misspelt entry?)`);
    }
  });

  const cases: { name: string; kinds: string[]; want: string[] }[] = [
    { name: 'nothing unenforced', kinds: ['VirtualService', 'Service'], want: [] },
    {
      name: 'one line per kind, counted, in the order first seen',
      kinds: ['Gateway', 'Service', 'RequestAuthentication', 'Gateway', 'AuthorizationPolicy'],
      want: [
        '2 Gateway stored but not enforced yet: Alder runs no gateway proxies in this version, so nothing listens on their servers',
      ],
    },
    { name: 'RequestAuthentication: enforced, so nothing', kinds: ['RequestAuthentication'], want: [] },
  ];
  for (const c of cases) {
    it(`enforcement: notEnforcedKinds reports ${c.name}`, () => {
      const got = notEnforcedKinds(c.kinds.map((kind) => ({ kind }))).map((n) =>
        formatNotEnforced(n, 'stored'),
      );
      assert.deepEqual(got, c.want, `want these notices for kinds ${JSON.stringify(c.kinds)}`);
    });
  }
});
