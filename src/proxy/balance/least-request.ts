// LEAST_REQUEST as Envoy does it: with equal weights (and no endpoint warming up), the power of two
// random choices, keeping the sample with fewer requests in flight; otherwise weighted round robin
// over weight × slow start / (active + 1), Envoy's active_request_bias of 1.0.

import { type Host, hasUniformWeights, slowStartEndsMs, slowStartFactor } from './host.ts';
import type { Picker, PickInput } from './picker.ts';

export interface LeastRequestOptions {
  warmupMs: number;
  /** Uniform in [0, 1). */
  random(): number;
}

export function createLeastRequestPicker(hosts: readonly Host[], options: LeastRequestOptions): Picker {
  return new LeastRequestPicker(hosts, options);
}

class LeastRequestPicker implements Picker {
  readonly #hosts: readonly Host[];
  readonly #scores: Float64Array;
  readonly #isUniform: boolean;
  readonly #warmupMs: number;
  readonly #warmupEndsMs: number;
  readonly #random: () => number;

  constructor(hosts: readonly Host[], options: LeastRequestOptions) {
    this.#hosts = hosts;
    this.#scores = new Float64Array(hosts.length);
    this.#isUniform = hasUniformWeights(hosts);
    this.#warmupMs = options.warmupMs;
    this.#warmupEndsMs = slowStartEndsMs(hosts, options.warmupMs);
    this.#random = options.random;
  }

  pick(input: PickInput): Host {
    const hosts = this.#hosts;
    const n = hosts.length;
    if (n === 1) return hosts[0]!;
    if (this.#isUniform && input.nowMs >= this.#warmupEndsMs) {
      // Envoy's choice_count 2: sample with replacement; a later sample wins only if strictly less busy.
      const first = hosts[Math.floor(this.#random() * n)]!;
      const second = hosts[Math.floor(this.#random() * n)]!;
      return second.state.active < first.state.active ? second : first;
    }
    const scores = this.#scores;
    const warmupMs = this.#warmupMs;
    let total = 0;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const h = hosts[i]!;
      const slow = warmupMs > 0 ? slowStartFactor(h.state.addedAtMs, input.nowMs, warmupMs) : 1;
      const w = (h.weight * slow) / (h.state.active + 1);
      const score = scores[i]! + w;
      scores[i] = score;
      total += w;
      if (score > scores[best]!) best = i;
    }
    scores[best]! -= total;
    return hosts[best]!;
  }
}
