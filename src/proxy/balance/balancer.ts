// One cluster's load balancer for one snapshot version: locality priorities, outlier ejections and
// the panic threshold, then the cluster's policy. Built (rings and tables too) when the snapshot
// arrives, again only when ejections change; pick() itself reads prepared objects and allocates none.

import { AlderError, ErrorCode } from '../../config/core.ts';
import type { Cluster, Endpoint, LoadBalancer, ProxyIdentity } from '../../wire/index.ts';
import { hash32, hash53 } from './hash.ts';
import { endpointKey, type Host, type HostState } from './host.ts';
import { createLeastRequestPicker } from './least-request.ts';
import { planLocality } from './locality.ts';
import { createLocalityWeightedPicker, type LocalityGroup } from './locality-weighted.ts';
import { createMaglevPicker, DEFAULT_TABLE_SIZE, isPrime } from './maglev.ts';
import type { OutlierDetector } from './outlier-detector.ts';
import { NoEndpointReason, noEndpoint, PASSTHROUGH, type PickResult } from './pick.ts';
import type { Picker, PickInput } from './picker.ts';
import { computePriorityLoad } from './priority-load.ts';
import { createRandomPicker } from './random-picker.ts';
import { createRingHashPicker, DEFAULT_MINIMUM_RING_SIZE, MAXIMUM_RING_SIZE } from './ring-hash.ts';
import { createRoundRobinPicker } from './round-robin.ts';

export interface BalancerDeps {
  /** Milliseconds, monotonic (slow start). */
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
  /** The cluster's detector, kept across snapshots; createBalancer gives it the new endpoint set. */
  outlier?: OutlierDetector;
  /** The balancer this one replaces: in-flight counts and slow-start clocks carry over by address:port. */
  previous?: Balancer;
}

export interface PickContext {
  /** RING_HASH / MAGLEV: the request's key (see hashKeyOf); absent, a random host, as Envoy does. */
  hashKey?: string | undefined;
}

export interface BalancerDescription {
  cluster: string;
  policy: LoadBalancer['kind'];
  priorities: {
    priority: number;
    endpoints: string[];
    healthy: number;
    loadPercent: number;
    isPanic: boolean;
  }[];
  /** Endpoints `distribute` sends this proxy's traffic to none of. */
  excluded: string[];
}

export interface Balancer {
  readonly cluster: Cluster;
  pick(ctx?: PickContext): PickResult;
  /** A request to the endpoint started / ended (LEAST_REQUEST reads the difference). */
  onStart(endpoint: Endpoint): void;
  onEnd(endpoint: Endpoint): void;
  describe(): BalancerDescription;
}

/** Throws AlderError ALDER_SNAPSHOT_INVALID when the policy cannot be built (tableSize not a prime …). */
export function createBalancer(
  cluster: Cluster,
  self: Pick<ProxyIdentity, 'labels' | 'locality'>,
  deps: BalancerDeps,
): Balancer {
  return new ClusterBalancer(cluster, self, deps);
}

interface LevelView {
  picker: Picker | undefined;
  isPanic: boolean;
  /** The hosts the picker was built over, to reuse it when a refresh leaves them unchanged. */
  source: readonly Host[];
  healthy: number;
  load: number;
}

// Not modelled, as nothing in a snapshot produces them: degraded hosts, active health checks,
// zone-aware routing against a local cluster, Envoy's success-rate detectors (Istio disables them).
class ClusterBalancer implements Balancer {
  readonly cluster: Cluster;
  readonly #deps: BalancerDeps;
  readonly #lb: LoadBalancer;
  readonly #warmupMs: number;
  readonly #panicThresholdPercent: number;
  readonly #states = new Map<string, HostState>();
  readonly #stateOf = new Map<Endpoint, HostState>();
  readonly #levels: Host[][] = [];
  readonly #localityWeights: Map<string, number> | undefined;
  readonly #excluded: string[] = [];
  readonly #noEndpoints: PickResult;
  readonly #allEjected: PickResult;
  readonly #input: PickInput = { nowMs: 0, hash: 0 };
  #view: LevelView[] = [];
  /** Cumulative load per level (the last is 100); empty when level 0 takes it all. */
  #cumulative: number[] = [];
  #generation = -1;

  constructor(cluster: Cluster, self: Pick<ProxyIdentity, 'labels' | 'locality'>, deps: BalancerDeps) {
    checkPolicy(cluster);
    this.cluster = cluster;
    this.#deps = deps;
    this.#lb = cluster.lb;
    this.#warmupMs = 'warmupMs' in cluster.lb ? (cluster.lb.warmupMs ?? 0) : 0;
    this.#panicThresholdPercent = cluster.outlierDetection?.minHealthPercent ?? 0;
    this.#noEndpoints = noEndpoint(NoEndpointReason.NoEndpoints, cluster.name);
    this.#allEjected = noEndpoint(NoEndpointReason.AllEjected, cluster.name);
    if (cluster.lb.kind === 'PASSTHROUGH') return;
    const plan = planLocality(cluster.endpoints, self, cluster.lb.locality);
    this.#localityWeights = plan.localityWeights;
    const previous = deps.previous instanceof ClusterBalancer ? deps.previous.#states : undefined;
    for (const [i, endpoint] of cluster.endpoints.entries()) {
      const key = endpointKey(endpoint);
      const state = this.#states.get(key) ?? previous?.get(key) ?? { active: 0, addedAtMs: deps.now() };
      this.#states.set(key, state);
      this.#stateOf.set(endpoint, state);
      const priority = plan.priorities[i]!;
      if (priority < 0) this.#excluded.push(key);
      else this.#addHost(endpoint, key, state, priority);
    }
    // Envoy's maxEjectionPercent counts the hosts this proxy balances over (not those distribute drops).
    deps.outlier?.setEndpoints(this.#levels.flatMap((hosts) => hosts.map((h) => h.endpoint)));
    this.#refresh();
  }

  #addHost(endpoint: Endpoint, key: string, state: HostState, priority: number): void {
    const picked = { kind: 'endpoint', endpoint, priority } as const;
    const level = this.#levels[priority] ?? [];
    this.#levels[priority] = level;
    level.push({
      endpoint,
      key,
      weight: Math.max(1, endpoint.weight),
      state,
      picked: Object.freeze({ ...picked, isPanic: false }),
      pickedInPanic: Object.freeze({ ...picked, isPanic: true }),
    });
  }

  pick(ctx?: PickContext): PickResult {
    if (this.#lb.kind === 'PASSTHROUGH') return PASSTHROUGH;
    if (this.#levels.length === 0) return this.#noEndpoints;
    const outlier = this.#deps.outlier;
    if (outlier !== undefined && outlier.generation !== this.#generation) this.#refresh();
    const input = this.#input;
    if (this.#warmupMs > 0) input.nowMs = this.#deps.now();
    const kind = this.#lb.kind;
    const isHash = kind === 'RING_HASH' || kind === 'MAGLEV';
    if (isHash) input.hash = this.#hashOf(ctx?.hashKey, kind === 'RING_HASH');
    let level = this.#view[0]!;
    const cumulative = this.#cumulative;
    if (cumulative.length > 0) {
      // Envoy's choosePriority: a draw in 1..100 against cumulative loads (the key's hash when hashing).
      const draw = (isHash ? input.hash % 100 : Math.floor(this.#deps.random() * 100)) + 1;
      let i = 0;
      while (i < cumulative.length - 1 && draw > cumulative[i]!) i++;
      level = this.#view[i]!;
    }
    if (level.picker === undefined) return this.#allEjected;
    const host = level.picker.pick(input);
    return level.isPanic ? host.pickedInPanic : host.picked;
  }

  #hashOf(key: string | undefined, isRing: boolean): number {
    if (key !== undefined) return isRing ? hash53(key) : hash32(key);
    return Math.floor(this.#deps.random() * (isRing ? 2 ** 53 : 2 ** 32));
  }

  onStart(endpoint: Endpoint): void {
    const state = this.#stateOf.get(endpoint) ?? this.#states.get(endpointKey(endpoint));
    if (state !== undefined) state.active++;
  }

  onEnd(endpoint: Endpoint): void {
    const state = this.#stateOf.get(endpoint) ?? this.#states.get(endpointKey(endpoint));
    if (state !== undefined && state.active > 0) state.active--;
  }

  describe(): BalancerDescription {
    const outlier = this.#deps.outlier;
    if (outlier !== undefined && outlier.generation !== this.#generation) this.#refresh();
    return {
      cluster: this.cluster.name,
      policy: this.#lb.kind,
      priorities: this.#levels.map((hosts, priority) => {
        const view = this.#view[priority]!;
        const { healthy, load: loadPercent, isPanic } = view;
        return { priority, endpoints: hosts.map((h) => h.key), healthy, loadPercent, isPanic };
      }),
      excluded: [...this.#excluded],
    };
  }

  /** Health per priority → Envoy's loads and panic → pickers over the hosts each level may use. */
  #refresh(): void {
    const outlier = this.#deps.outlier;
    this.#generation = outlier?.generation ?? 0;
    const healthy = this.#levels.map((hosts) =>
      outlier === undefined ? hosts : hosts.filter((h) => !outlier.isEjected(h.endpoint)),
    );
    const { loads, isPanic } = computePriorityLoad(
      this.#levels.map((hosts, i) => ({ hosts: hosts.length, healthy: healthy[i]!.length })),
      this.#panicThresholdPercent,
    );
    const previous = this.#view;
    this.#view = this.#levels.map((hosts, i) => {
      const source = isPanic[i] ? hosts : healthy[i]!;
      const old = previous[i];
      const isSame = old !== undefined && sameHosts(old.source, source) && old.isPanic === isPanic[i];
      const picker = isSame ? old.picker : this.#buildPicker(hosts, source, isPanic[i]!);
      return { picker, isPanic: isPanic[i]!, source, healthy: healthy[i]!.length, load: loads[i]! };
    });
    let sum = 0;
    this.#cumulative = loads[0] === 100 ? [] : loads.map((l) => (sum += l));
  }

  #buildPicker(level: readonly Host[], source: readonly Host[], isPanic: boolean): Picker | undefined {
    if (source.length === 0) return undefined;
    const lb = this.#lb;
    const localityWeights = this.#localityWeights;
    if (lb.kind === 'RING_HASH' || lb.kind === 'MAGLEV') {
      const weights =
        localityWeights === undefined ? source.map((h) => h.weight) : foldLocality(source, localityWeights);
      if (lb.kind === 'MAGLEV')
        return createMaglevPicker(source, weights, lb.tableSize ?? DEFAULT_TABLE_SIZE);
      return createRingHashPicker(source, weights, lb.minimumRingSize ?? DEFAULT_MINIMUM_RING_SIZE);
    }
    // In panic Envoy ignores locality weights and balances over every host of the priority.
    if (localityWeights !== undefined && !isPanic) {
      const groups = [...localityWeights].map(([locality, weight]): LocalityGroup => {
        const healthyHere = source.filter((h) => h.endpoint.locality === locality);
        const hosts = level.filter((h) => h.endpoint.locality === locality).length;
        const picker = healthyHere.length === 0 ? undefined : this.#plainPicker(healthyHere);
        return { weight, hosts, healthy: healthyHere.length, picker };
      });
      const picker = createLocalityWeightedPicker(groups);
      if (picker !== undefined) return picker;
    }
    return this.#plainPicker(source);
  }

  #plainPicker(hosts: readonly Host[]): Picker {
    const { random } = this.#deps;
    const warmupMs = this.#warmupMs;
    switch (this.#lb.kind) {
      case 'LEAST_REQUEST':
        return createLeastRequestPicker(hosts, { warmupMs, random });
      case 'RANDOM':
        return createRandomPicker(hosts, random);
      default:
        return createRoundRobinPicker(hosts, { warmupMs, random });
    }
  }
}

/** Hash policies under `distribute`: each host's share of its locality's weight (Envoy folds them the same way). */
function foldLocality(hosts: readonly Host[], localityWeights: Map<string, number>): number[] {
  const sums = new Map<string, number>();
  for (const h of hosts) sums.set(h.endpoint.locality, (sums.get(h.endpoint.locality) ?? 0) + h.weight);
  return hosts.map(
    (h) => (h.weight / sums.get(h.endpoint.locality)!) * (localityWeights.get(h.endpoint.locality) ?? 0),
  );
}

function sameHosts(a: readonly Host[], b: readonly Host[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkPolicy(cluster: Cluster): void {
  const lb = cluster.lb;
  if (lb.kind === 'MAGLEV' && lb.tableSize !== undefined && !isPrime(lb.tableSize)) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `cluster ${cluster.name}: lb.tableSize: must be a prime number, got ${lb.tableSize}`,
      { hint: 'use a prime such as 65537 (the default) or 5000011' },
    );
  }
  const ring = lb.kind === 'RING_HASH' ? lb.minimumRingSize : undefined;
  if (ring !== undefined && !(Number.isInteger(ring) && ring >= 1 && ring <= MAXIMUM_RING_SIZE)) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `cluster ${cluster.name}: lb.minimumRingSize: must be an integer from 1 to ${MAXIMUM_RING_SIZE}, got ${ring}`,
    );
  }
}
