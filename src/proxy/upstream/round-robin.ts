// Round robin over a cluster's endpoints, built once per snapshot. Requests only call next().

import type { Cluster, Endpoint } from '../../wire/index.ts';

export class RoundRobin {
  readonly cluster: Cluster;
  #next = 0;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  /** The next endpoint, or undefined when the cluster has none. */
  next(): Endpoint | undefined {
    const endpoints = this.cluster.endpoints;
    if (endpoints.length === 0) return undefined;
    const endpoint = endpoints[this.#next % endpoints.length];
    this.#next = (this.#next + 1) % endpoints.length;
    return endpoint;
  }
}
