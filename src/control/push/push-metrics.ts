// The distribution layer's own metrics, in Prometheus text: pushes and bytes by resource type,
// NACKs, connected proxies and workloads, and the convergence time from a change reaching the control plane to a
// proxy's ACK (Istio's pilot_proxy_convergence_time is the model).

import type { ResourceType } from '../../wire/index.ts';

const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class PushMetrics {
  readonly pushes = new Map<ResourceType, number>();
  readonly bytes = new Map<ResourceType, number>();
  readonly nacks = new Map<ResourceType, number>();
  readonly #buckets = BUCKETS.map(() => 0);
  #count = 0;
  #sum = 0;
  pushMessages = 0;
  pushMessageBytes = 0;

  countPush(type: ResourceType, bytes: number): void {
    this.pushes.set(type, (this.pushes.get(type) ?? 0) + 1);
    this.bytes.set(type, (this.bytes.get(type) ?? 0) + bytes);
  }

  countNack(type: ResourceType): void {
    this.nacks.set(type, (this.nacks.get(type) ?? 0) + 1);
  }

  observeConvergence(seconds: number): void {
    this.#count++;
    this.#sum += seconds;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.#buckets[i] = (this.#buckets[i] ?? 0) + 1;
    });
  }

  /** `connected`: proxies' streams; `sessions`: workloads on them (a node proxy's stream carries many). */
  text(connected: number, sessions: number): string {
    const out: string[] = [];
    const family = (name: string, help: string, type: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family('alder_push_total', 'Resources pushed to proxies, by type.', 'counter');
    for (const [t, n] of this.pushes) out.push(`alder_push_total{type="${t}"} ${n}`);
    family('alder_push_bytes_total', 'Bytes of pushed resources, by type.', 'counter');
    for (const [t, n] of this.bytes) out.push(`alder_push_bytes_total{type="${t}"} ${n}`);
    family('alder_push_messages_total', 'Push messages sent to proxies.', 'counter');
    out.push(`alder_push_messages_total ${this.pushMessages}`);
    family('alder_push_nacks_total', 'Pushes a proxy refused, by type.', 'counter');
    for (const [t, n] of this.nacks) out.push(`alder_push_nacks_total{type="${t}"} ${n}`);
    family('alder_connected_proxies', 'Proxies holding a stream to this control plane.', 'gauge');
    out.push(`alder_connected_proxies ${connected}`);
    family('alder_connected_workloads', 'Workloads said hello on those streams (each a session).', 'gauge');
    out.push(`alder_connected_workloads ${sessions}`);
    family(
      'alder_proxy_convergence_time_seconds',
      'From a config change reaching the control plane to a proxy acknowledging it.',
      'histogram',
    );
    BUCKETS.forEach((b, i) => {
      out.push(`alder_proxy_convergence_time_seconds_bucket{le="${b}"} ${this.#buckets[i]}`);
    });
    out.push(`alder_proxy_convergence_time_seconds_bucket{le="+Inf"} ${this.#count}`);
    out.push(`alder_proxy_convergence_time_seconds_sum ${this.#sum}`);
    out.push(`alder_proxy_convergence_time_seconds_count ${this.#count}`);
    return `${out.join('\n')}\n`;
  }
}
