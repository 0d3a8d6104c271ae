// Envoy's locality-weighted balancing inside one priority (Istio's `distribute`): choose a locality
// by smooth weighted round robin over its effective weight, then a host there with its own picker.

import type { Host } from './host.ts';
import type { Picker, PickInput } from './picker.ts';
import { OVERPROVISIONING_FACTOR_PERCENT } from './priority-load.ts';

export interface LocalityGroup {
  /** The locality's configured weight. */
  weight: number;
  /** Hosts of the locality in this priority, and how many of them are healthy. */
  hosts: number;
  healthy: number;
  /** Over the healthy hosts; absent when none is. */
  picker: Picker | undefined;
}

/** Envoy's effective locality weight: weight × min(1, 1.4 × healthy / hosts). */
export function effectiveLocalityWeight(group: LocalityGroup): number {
  if (group.picker === undefined || group.hosts === 0) return 0;
  const availability = (OVERPROVISIONING_FACTOR_PERCENT / 100) * (group.healthy / group.hosts);
  return group.weight * Math.min(1, availability);
}

/** Undefined when no locality has an effective weight (the caller falls back to all healthy hosts). */
export function createLocalityWeightedPicker(groups: readonly LocalityGroup[]): Picker | undefined {
  const live = groups.filter((g) => effectiveLocalityWeight(g) > 0);
  if (live.length === 0) return undefined;
  const weights = live.map(effectiveLocalityWeight);
  const pickers = live.map((g) => g.picker!);
  const scores = new Float64Array(live.length);
  const total = weights.reduce((a, b) => a + b, 0);
  return {
    pick(input: PickInput): Host {
      let best = 0;
      for (let i = 0; i < scores.length; i++) {
        scores[i]! += weights[i]!;
        if (scores[i]! > scores[best]!) best = i;
      }
      scores[best]! -= total;
      return pickers[best]!.pick(input);
    },
  };
}
