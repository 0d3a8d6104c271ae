import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthCheckFrame, servingStatusOf } from './probe-checks.ts';

describe('agent: grpc.health.v1 framing', () => {
  const requests: { name: string; service: string; want: string }[] = [
    { name: 'the whole server', service: '', want: '0000000000' },
    { name: 'a named service', service: 'a.B', want: '00000000050a03612e42' },
    {
      name: 'a 200-byte name (two-byte length)',
      service: 'x'.repeat(200),
      want: `00000000cb0ac801${'78'.repeat(200)}`,
    },
  ];
  for (const c of requests) {
    it(`request frame: ${c.name}`, () => {
      assert.equal(healthCheckFrame(c.service).toString('hex'), c.want);
    });
  }

  const answers: { name: string; hex: string; want: number | undefined }[] = [
    { name: 'SERVING', hex: '00000000020801', want: 1 },
    { name: 'NOT_SERVING', hex: '00000000020802', want: 2 },
    { name: 'an empty message (UNKNOWN, proto3 default)', hex: '0000000000', want: 0 },
    { name: 'a compressed frame', hex: '01000000020801', want: undefined },
    { name: 'a string field, not a HealthCheckResponse', hex: '00000000030a0161', want: undefined },
    { name: 'fewer than 5 bytes', hex: '000000', want: undefined },
  ];
  for (const c of answers) {
    it(`answer: ${c.name}`, () => {
      assert.equal(servingStatusOf(Buffer.from(c.hex, 'hex')), c.want);
    });
  }
});
