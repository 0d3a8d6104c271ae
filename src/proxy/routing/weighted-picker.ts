// Weighted choice among a route's destinations, as Envoy's weighted_clusters pick: a random value
// below the total weight, then the first destination whose cumulative weight exceeds it. Built once
// per snapshot; the random source is injected so tests are deterministic.

/** A source of uniform random numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

export interface WeightedPicker<T> {
  /** The sum of the weights (0: nothing can be chosen). */
  readonly totalWeight: number;
  /** A destination, or undefined when every weight is 0. */
  pick(random: RandomSource): T | undefined;
}

/**
 * Compiles the choice among `items`. One item is always chosen whatever its weight (Istio writes a
 * single destination as a plain cluster); among several, a weight of 0 is never chosen.
 */
export function compileWeights<T extends { weight: number }>(items: readonly T[]): WeightedPicker<T> {
  const only = items[0];
  if (items.length === 1 && only !== undefined) return { totalWeight: only.weight, pick: () => only };
  const chosen = items.filter((d) => d.weight > 0);
  const cumulative: number[] = [];
  let total = 0;
  for (const d of chosen) {
    total += d.weight;
    cumulative.push(total);
  }
  return {
    totalWeight: total,
    pick(random) {
      if (total === 0) return undefined;
      const r = Math.floor(random() * total);
      // Linear: a route splits over a handful of destinations.
      for (let k = 0; k < cumulative.length; k++) if (r < (cumulative[k] as number)) return chosen[k];
      return chosen[chosen.length - 1];
    },
  };
}
