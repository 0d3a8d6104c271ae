import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probePlanOf } from './probe-spec.ts';

describe('compile: probePlanOf', () => {
  it("applies Kubernetes' defaults to unset and 0 fields and turns seconds into ms", () => {
    assert.deepEqual(probePlanOf({ timeoutSeconds: 0, tcpSocket: { port: 9080 } }), {
      initialDelayMs: 0,
      timeoutMs: 1000,
      periodMs: 10_000,
      successThreshold: 1,
      failureThreshold: 3,
      tcpSocket: { port: 9080 },
    });
  });

  it("keeps Istio's example as given", () => {
    const plan = probePlanOf({
      initialDelaySeconds: 5,
      timeoutSeconds: 3,
      periodSeconds: 4,
      successThreshold: 3,
      failureThreshold: 3,
      httpGet: { path: '/foo/bar', host: '127.0.0.1', port: 3100, scheme: 'HTTPS' },
    });
    assert.deepEqual(plan, {
      initialDelayMs: 5000,
      timeoutMs: 3000,
      periodMs: 4000,
      successThreshold: 3,
      failureThreshold: 3,
      httpGet: { path: '/foo/bar', host: '127.0.0.1', port: 3100, scheme: 'HTTPS' },
    });
  });
});
