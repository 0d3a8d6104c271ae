// Table tests of the connection limits read from the environment: defaults where unset, durations
// and counts where set, and one error naming every variable refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONNECTION_LIMIT_DEFAULTS,
  type ConnectionLimits,
  readConnectionLimits,
} from './connection-limits.ts';

const cases: { name: string; env: Record<string, string>; want: Partial<ConnectionLimits> }[] = [
  { name: 'nothing set: the defaults', env: {}, want: {} },
  {
    name: 'durations in Go syntax',
    env: { ALDER_PROXY_HANDSHAKE_TIMEOUT: '1.5s', ALDER_PROXY_REQUEST_HEADERS_TIMEOUT: '250ms' },
    want: { handshakeTimeoutMs: 1500, requestHeadersTimeoutMs: 250 },
  },
  {
    name: 'a count',
    env: { ALDER_PROXY_MAX_DOWNSTREAM_CONNECTIONS: '300' },
    want: { maxDownstreamConnections: 300 },
  },
  { name: 'an empty value is unset', env: { ALDER_PROXY_HANDSHAKE_TIMEOUT: '' }, want: {} },
];

for (const c of cases) {
  test(`connection limits: ${c.name}`, () => {
    assert.deepEqual(readConnectionLimits(c.env), { ...CONNECTION_LIMIT_DEFAULTS, ...c.want });
  });
}

test('connection limits: every bad variable is named in one error, with what it must be', () => {
  const env = {
    ALDER_PROXY_HANDSHAKE_TIMEOUT: '10',
    ALDER_PROXY_REQUEST_HEADERS_TIMEOUT: '0s',
    ALDER_PROXY_MAX_DOWNSTREAM_CONNECTIONS: '1e4',
  };
  assert.throws(
    () => readConnectionLimits(env),
    (err: Error & { code?: string }) =>
      err.code === 'ALDER_CONFIG_INVALID' &&
      err.message.includes('ALDER_PROXY_HANDSHAKE_TIMEOUT: must be a duration') &&
      err.message.includes('ALDER_PROXY_REQUEST_HEADERS_TIMEOUT: must be a duration') &&
      err.message.includes(
        'ALDER_PROXY_MAX_DOWNSTREAM_CONNECTIONS: must be a whole number above 0, got "1e4"',
      ),
    'want ALDER_CONFIG_INVALID naming all three variables',
  );
});
