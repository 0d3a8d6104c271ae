// The behaviour every Store backend must show, as a node:test suite. A backend's own test file calls
// runStoreContract with a factory for fresh, empty stores (sqlite-store.test.ts does; etcd will).
// Not exported from index.ts: only tests import it. It assumes no revision numbering beyond "increasing".

import { describe } from 'node:test';
import type { StoreHarness, WithStore } from './store-contract-kit.ts';
import { defineObjectTests } from './store-contract-objects.ts';
import { defineWatchTests } from './store-contract-watch.ts';

export type { StoreHarness } from './store-contract-kit.ts';

/** Runs the contract against fresh stores from `open`, one per test. */
export function runStoreContract(name: string, open: () => Promise<StoreHarness>): void {
  const withStore: WithStore = (fn) => async (t) => {
    const h = await open();
    try {
      await fn(h, t);
    } finally {
      await h.cleanup();
    }
  };

  describe(`store contract: ${name}`, () => {
    describe('objects', () => defineObjectTests(withStore));
    describe('watch', () => defineWatchTests(withStore));
  });
}
