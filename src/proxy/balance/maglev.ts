// MAGLEV: Envoy's weighted Maglev table (Eisenbud et al. 2016). Each host walks its own permutation
// of the table's slots (offset and skip from two hashes of "address:port") and claims free slots in
// turns proportional to its weight; a request takes slot hash % tableSize. Built once per snapshot
// and health change.

import { hash32 } from './hash.ts';
import type { Host } from './host.ts';
import type { Picker, PickInput } from './picker.ts';

/** Envoy's default table_size: a prime, so every skip walks all slots. */
export const DEFAULT_TABLE_SIZE = 65537;
const SEED_OFFSET = 0;
const SEED_SKIP = 1;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** `weights[i]` is hosts[i]'s share (any positive scale); hosts non-empty; tableSize a prime. */
export function createMaglevPicker(
  hosts: readonly Host[],
  weights: readonly number[],
  tableSize: number,
): Picker {
  const table = buildTable(hosts, weights, tableSize);
  return { pick: (input: PickInput): Host => hosts[table[input.hash % tableSize]!]! };
}

function buildTable(hosts: readonly Host[], weights: readonly number[], size: number): Int32Array {
  const n = hosts.length;
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const target = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    position[i] = hash32(hosts[i]!.key, SEED_OFFSET) % size;
    skip[i] = (hash32(hosts[i]!.key, SEED_SKIP) % (size - 1)) + 1;
    maxWeight = Math.max(maxWeight, weights[i]!);
  }
  const table = new Int32Array(size).fill(-1);
  // A host of the largest weight claims a slot every round; one of a third of it, every third round.
  // Slots advance by subtraction, not %: integer compares keep a 65537-slot build near 5 ms.
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (round * weights[i]! < target[i]!) continue;
      target[i]! += maxWeight;
      const step = skip[i]!;
      let slot = position[i]!;
      while (table[slot] !== -1) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      slot += step;
      position[i] = slot >= size ? slot - size : slot;
      filled++;
    }
  }
  return table;
}
