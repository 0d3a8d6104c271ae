import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteMatch } from '../../wire/index.ts';
import { compactMatch, matchWords } from './match-words.ts';

// [case, match block, in words, the MATCH column]
const CASES: [string, RouteMatch, string, string][] = [
  ['no conditions', {}, 'every request', '/*'],
  ['uri prefix', { uri: { prefix: '/api/' } }, 'uri prefix "/api/"', '/api/*'],
  [
    'uri exact ignoring case',
    { uri: { exact: '/A' }, ignoreUriCase: true },
    'uri exact "/A" (ignoring case)',
    '/A (any case)',
  ],
  ['uri regex', { uri: { regex: '/v[0-9]' } }, 'uri regex "/v[0-9]"', 'regex /v[0-9]'],
  [
    'method and header',
    {
      method: { exact: 'POST' },
      headers: [{ name: 'end-user', value: { exact: 'jason' }, isInverted: false }],
    },
    'method exact "POST", headers end-user exact "jason"',
    '/* method=POST end-user=jason',
  ],
  [
    'header present, regex "*" and prefix',
    {
      headers: [
        { name: 'x-a', isInverted: false },
        { name: 'x-b', value: { regex: '*' }, isInverted: false },
        { name: 'x-c', value: { prefix: 'gold-' }, isInverted: false },
      ],
    },
    'headers x-a present, headers x-b present, headers x-c prefix "gold-"',
    '/* x-a x-b x-c=gold-*',
  ],
  [
    'withoutHeaders',
    {
      headers: [
        { name: 'x-debug', isInverted: true },
        { name: 'u', value: { regex: 'b.*' }, isInverted: true },
      ],
    },
    'withoutHeaders x-debug present, withoutHeaders u regex "b.*"',
    '/* !x-debug !u~b.*',
  ],
  [
    'queryParams, port and source',
    {
      port: 9081,
      queryParams: [{ name: 'v', value: { exact: '1' } }, { name: 'debug' }],
      sourceNamespace: 'prod',
      sourceLabels: { app: 'web' },
    },
    'port 9081, queryParams v exact "1", queryParams debug present, sourceLabels app=web, sourceNamespace prod',
    '/* port=9081 ?v=1 ?debug from app=web from ns prod',
  ],
];

describe('match words', () => {
  for (const [name, match, words, compact] of CASES) {
    it(`matchWords and compactMatch: ${name}`, () => {
      assert.equal(matchWords(match), words);
      assert.equal(compactMatch(match), compact);
    });
  }
});
