import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProbePlan, probePlanOf } from '../compile/index.ts';
import type { ProbeSpec } from './probes.ts';

describe('agent: ProbeSpec', () => {
  it("takes the compiler's ProbePlan as it is (checked by tsc)", () => {
    const plan: ProbePlan = probePlanOf({ exec: { command: ['true'] } });
    const spec: ProbeSpec = plan;
    assert.deepEqual(spec.exec, { command: ['true'] });
  });
});
