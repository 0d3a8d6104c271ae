// RANDOM: a uniformly random host, as Envoy's random load balancer (which ignores weights).

import type { Host } from './host.ts';
import type { Picker } from './picker.ts';

export function createRandomPicker(hosts: readonly Host[], random: () => number): Picker {
  return { pick: () => hosts[Math.floor(random() * hosts.length)]! };
}
