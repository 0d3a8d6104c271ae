// A RequestExplanation in words, as `alder explain` prints it for both --admin and --config: the
// request, its virtual host, the chosen route and why, each destination with its policy and
// endpoints, the route's policies, then every other route and why it was not taken.

import type { EndpointView } from './cluster-view.ts';
import type { DestinationExplanation, RequestExplanation, RouteVerdict } from './explain-request.ts';

const LABEL_WIDTH = 14;
/** Endpoints listed by address on the endpoints line; the rest are counted. */
const MAX_LISTED_ENDPOINTS = 6;

export function formatRequestExplanation(e: RequestExplanation): string {
  const lines = [`${e.request.method} ${e.request.url}  (from ${e.from})`];
  const line = (label: string, text: string) => lines.push(`${label.padEnd(LABEL_WIDTH)}${text}`);
  if (e.request.headers.length > 0)
    line('headers', e.request.headers.map(([n, v]) => `${n}: ${v}`).join(', '));
  if (e.routeTable !== 'outbound') line('route table', e.routeTable);
  const o = e.outcome;
  if (o.kind === 'bad-path') {
    line('path', `refused: ${o.reason}; the proxy answers ${o.status} (flag ${o.flag})`);
    return `${lines.join('\n')}\n`;
  }
  if (e.request.normalizedPath !== undefined)
    line('path', `${e.request.normalizedPath} (normalized: routes match it, the app receives it)`);
  if (e.virtualHost === undefined) {
    line('virtual host', `none: ${o.reason}; the proxy answers ${o.status} (flag ${o.flag})`);
    line('hint', 'declare the host with a ServiceEntry, or check the name and port');
    return `${lines.join('\n')}\n`;
  }
  line('virtual host', e.virtualHost.name);
  if (o.kind === 'tcp-host') {
    line('route', `none: ${o.reason}; the proxy answers ${o.status} (flag ${o.flag})`);
    return `${lines.join('\n')}\n`;
  }
  const route = e.route;
  if (route === undefined) {
    line('route', `none matched: the proxy answers ${o.status} (flag ${o.flag})`);
    lines.push('routes');
    lines.push(...routeLines(e.routes));
    return `${lines.join('\n')}\n`;
  }
  const by =
    route.matchIndex === -1 || route.matches.length === 1
      ? ''
      : ` by match[${route.matchIndex}]${nameText(route.matches[route.matchIndex]?.name)}`;
  line('route', `${route.origin}${routeNameText(route)}  ← matched${by} (${route.matchWords})`);
  for (const d of e.destinations) destinationLines(d, line);
  for (const w of route.words) line(w.label, w.text);
  const others = e.routes.filter((r) => r.index !== route.index);
  if (others.length > 0) {
    lines.push('other routes');
    lines.push(...routeLines(others));
  }
  return `${lines.join('\n')}\n`;
}

function destinationLines(d: DestinationExplanation, line: (label: string, text: string) => void): void {
  const host = d.port === 0 ? d.host : `${d.host}:${d.port}`;
  const subset = d.subset === undefined ? '' : ` subset ${d.subset}`;
  const weight = d.weight === 0 ? ' (weight 0: never chosen)' : ` (weight ${d.weight} of ${d.totalWeight})`;
  if (!d.isClusterKnown) {
    line(
      'destination',
      `${host}${subset}${weight} → cluster ${d.cluster}, which is not in the snapshot: the proxy answers 503 (flag NC)`,
    );
    return;
  }
  line('destination', `${host}${subset}${weight} → cluster ${d.cluster}`);
  line('policy', d.policy);
  line('endpoints', endpointsText(d));
}

function endpointsText(d: DestinationExplanation): string {
  if (d.endpoints.length === 0) return '0: the proxy answers 503 (flag UH)';
  // Those with something observed first, so that none hides among the ones counted.
  const byConcern = d.endpoints.filter((p) => p.observed.state !== 'HEALTHY');
  for (const p of d.endpoints) if (p.observed.state === 'HEALTHY') byConcern.push(p);
  const listed = byConcern.slice(0, MAX_LISTED_ENDPOINTS).map(endpointText);
  const more = d.endpoints.length - listed.length;
  if (more > 0) listed.push(`+${more} more`);
  const counts = [`${d.healthy} healthy`];
  for (const state of ['FAILING', 'EJECTED'] as const) {
    const n = d.endpoints.filter((p) => p.observed.state === state).length;
    if (n > 0) counts.push(`${n} ${state.toLowerCase()}`);
  }
  return `${d.endpoints.length} (${counts.join(', ')}): ${listed.join(', ')}`;
}

/** The endpoint, and what this proxy observed of it unless that is nothing wrong. */
function endpointText(p: EndpointView): string {
  const notes: string[] = [];
  if (p.observed.state !== 'HEALTHY') notes.push(p.observed.summary);
  if (p.isExcluded) notes.push('excluded by locality distribute');
  return `${p.endpoint} ${p.workload}${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`;
}

/** One line per route (one per failed block when a route has several), labels aligned. */
function routeLines(routes: RouteVerdict[]): string[] {
  const labels = routes.map((r) => `${r.path}${routeNameText(r)}`);
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  const out: string[] = [];
  routes.forEach((r, i) => {
    const label = `  ${(labels[i] ?? '').padEnd(width)}`;
    const indent = ' '.repeat(label.length);
    if (r.verdict === 'not reached') {
      out.push(`${label}not reached (an earlier route matched)`);
      return;
    }
    const failed = r.blocks.filter((b) => !b.matched);
    if (r.blocks.length === 1 && failed[0] !== undefined) {
      out.push(`${label}${failed[0].reason}`);
      return;
    }
    failed.forEach((b, k) => {
      out.push(`${k === 0 ? label : indent}match[${b.index}]${nameText(b.name)}: ${b.reason}`);
    });
    if (failed.length === 0) out.push(`${label}matched`);
  });
  return out;
}

/** ` "v2-for-jason"` when the route has a name of its own (not just its `http[i]`). */
function routeNameText(r: { name: string; path: string; origin: string }): string {
  const last = r.path.split(' → ').at(-1);
  return r.name === last || r.path === 'default' ? '' : ` ${JSON.stringify(r.name)}`;
}

function nameText(name: string | undefined): string {
  return name === undefined ? '' : ` ${JSON.stringify(name)}`;
}
