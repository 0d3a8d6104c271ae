import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KINDS, NOT_ENFORCED_KINDS } from '../config/index.ts';
import { COMPILED_KINDS } from './config-index.ts';

/** Kinds that neither shape a snapshot nor need enforcing, and why. */
const NOTHING_TO_ENFORCE: Record<string, string> = {
  ServiceAccount: 'an identity: the WorkloadEntry names the account its proxy runs as',
  WorkloadGroup:
    'acted on by the control plane: members join with it (src/control/push/auto-registry.ts) and its probe goes in their proxy resource',
};

describe('compile: the kinds it reads', () => {
  it('compile: every kind Alder stores is compiled, or reported as not enforced yet', () => {
    const compiled = new Set<string>(COMPILED_KINDS);
    for (const { kind } of KINDS) {
      const places = [
        compiled.has(kind) ? 'COMPILED_KINDS' : undefined,
        NOT_ENFORCED_KINDS.has(kind) ? 'NOT_ENFORCED_KINDS' : undefined,
        NOTHING_TO_ENFORCE[kind] === undefined ? undefined : 'NOTHING_TO_ENFORCE',
      ].filter((p) => p !== undefined);
      assert.equal(
        places.length,
        1,
        `want ${kind} in exactly one of COMPILED_KINDS (src/compile/config-index.ts), NOT_ENFORCED_KINDS (src/config/enforcement.ts) or this test's NOTHING_TO_ENFORCE, got ${JSON.stringify(places)}`,
      );
    }
  });
});
