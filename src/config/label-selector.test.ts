import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLabelSelector } from './label-selector.ts';

const labels = { app: 'reviews', version: 'v2', canary: '' };

describe('label selector', () => {
  const cases: { selector: string; want: boolean }[] = [
    { selector: '', want: true },
    { selector: 'app=reviews', want: true },
    { selector: 'app==reviews', want: true },
    { selector: 'app=ratings', want: false },
    { selector: 'app=reviews,version!=v1', want: true },
    { selector: 'version!=v2', want: false },
    { selector: 'missing!=x', want: true },
    { selector: 'version in (v1, v2)', want: true },
    { selector: 'version notin (v1,v2)', want: false },
    { selector: 'canary', want: true },
    { selector: '!canary', want: false },
    { selector: '!missing', want: true },
    { selector: 'app=reviews, version in (v3)', want: false },
  ];
  for (const { selector, want } of cases) {
    it(`matches ${JSON.stringify(selector)} → ${want}`, () => {
      assert.equal(
        parseLabelSelector(selector)(labels),
        want,
        `selector ${JSON.stringify(selector)} on ${JSON.stringify(labels)}`,
      );
    });
  }
  it('matches an empty value only against an empty label, as Kubernetes does', () => {
    assert.equal(parseLabelSelector('app=')({ app: '' }), true, 'want app= to match app: ""');
    assert.equal(parseLabelSelector('app=')({ app: 'x' }), false, 'want app= not to match app: x');
  });
  for (const bad of ['=x', 'a b', '!a=b', 'x in v1']) {
    it(`refuses ${JSON.stringify(bad)} with ALDER_REQUEST_INVALID`, () => {
      assert.throws(() => parseLabelSelector(bad), { code: 'ALDER_REQUEST_INVALID' }, `want ${bad} refused`);
    });
  }
});
