// RING_HASH: Envoy's Ketama-style ring. Each host gets entries in proportion to its weight (the
// lightest at least ceil(share × minimumRingSize)), at hash53("address:port_i"); a request takes
// the first entry at or after its hash, wrapping. Built once per snapshot and health change.

import { hash53 } from './hash.ts';
import type { Host } from './host.ts';
import type { Picker, PickInput } from './picker.ts';

/** Envoy's defaults: minimum_ring_size 1024, maximum_ring_size 8M. */
export const DEFAULT_MINIMUM_RING_SIZE = 1024;
export const MAXIMUM_RING_SIZE = 8 * 1024 * 1024;

export interface RingHashPicker extends Picker {
  /** Entries on the ring. */
  readonly size: number;
}

/** `weights[i]` is hosts[i]'s share (any positive scale); hosts must be non-empty. */
export function createRingHashPicker(
  hosts: readonly Host[],
  weights: readonly number[],
  minimumRingSize: number,
): RingHashPicker {
  const { hashes, owners } = buildRing(hosts, weights, minimumRingSize);
  // A first-entry index per slice of the hash space narrows the binary search to a slice's few
  // entries: 1100 entries, 2048 slices: ~145 → ~78 ns a pick (hash included) on a shared 2-vCPU box.
  const bits = Math.min(20, Math.ceil(Math.log2(hashes.length)) + 1);
  const sliceSize = 2 ** (53 - bits);
  const starts = new Int32Array(2 ** bits + 1);
  for (let slice = 0, j = 0; slice < starts.length; slice++) {
    while (j < hashes.length && hashes[j]! < slice * sliceSize) j++;
    starts[slice] = j;
  }
  return {
    size: hashes.length,
    pick(input: PickInput): Host {
      // Lowest index whose hash is >= the request's, wrapping to 0 past the end.
      const h = input.hash;
      const slice = Math.floor(h / sliceSize);
      let lo = starts[slice]!;
      let hi = starts[slice + 1]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (hashes[mid]! < h) lo = mid + 1;
        else hi = mid;
      }
      return hosts[owners[lo === hashes.length ? 0 : lo]!]!;
    },
  };
}

function buildRing(
  hosts: readonly Host[],
  weights: readonly number[],
  minimumRingSize: number,
): { hashes: Float64Array; owners: Int32Array } {
  let sum = 0;
  for (const w of weights) sum += w;
  let minShare = 1;
  for (const w of weights) minShare = Math.min(minShare, w / sum);
  // Scale so the lightest host gets a whole number of entries, capped at the maximum size.
  const scale = Math.min(Math.ceil(minShare * minimumRingSize) / minShare, MAXIMUM_RING_SIZE);
  const pointHashes: number[] = [];
  const pointOwners: number[] = [];
  let current = 0;
  let target = 0;
  for (let i = 0; i < hosts.length; i++) {
    const prefix = `${hosts[i]!.key}_`;
    target += (scale * weights[i]!) / sum;
    for (let n = 0; current < target; n++, current++) {
      pointHashes.push(hash53(prefix + n));
      pointOwners.push(i);
    }
  }
  const order = Array.from(pointHashes.keys()).sort((a, b) => pointHashes[a]! - pointHashes[b]!);
  const hashes = new Float64Array(order.length);
  const owners = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) {
    hashes[i] = pointHashes[order[i]!]!;
    owners[i] = pointOwners[order[i]!]!;
  }
  return { hashes, owners };
}
