// Why a request takes the route it takes: every route in order, and for each match block the first
// condition that failed, in words. Runs the compiled conditions select() runs and takes the chosen
// route from select() itself, so the two cannot disagree. `alder explain` prints formatExplanation.

import type { ProxyIdentity, VirtualHost } from '../../wire/index.ts';
import { type CompiledVirtualHost, compileVirtualHost } from './compile-virtual-host.ts';
import { firstFailure } from './route-match.ts';
import { RequestView, type RouteRequest } from './route-request.ts';

export interface MatchBlockExplanation {
  index: number;
  name: string | undefined;
  matched: boolean;
  /** Why it did not match: the first failing condition, or the proxy's identity for source conditions. */
  reason: string | undefined;
}

export interface RouteExplanation {
  index: number;
  name: string;
  origin: string;
  /** Some match block accepted the request (a route without blocks accepts every request). */
  matched: boolean;
  blocks: MatchBlockExplanation[];
}

export interface Explanation {
  virtualHost: string;
  routes: RouteExplanation[];
  /** The route select() chooses: the first that matched. Absent: no route (Envoy's NR, a 404). */
  chosen: { index: number; name: string; origin: string; matchIndex: number } | undefined;
}

/** Explains how the virtual host `vh`, compiled for `self`, routes `req`. */
export function explain(vh: VirtualHost, req: RouteRequest, self: ProxyIdentity): Explanation {
  return explainCompiled(compileVirtualHost(vh, self), req);
}

/** The same, for a virtual host compiled already (the proxy's current one). */
export function explainCompiled(vh: CompiledVirtualHost, req: RouteRequest): Explanation {
  const view = new RequestView(req);
  const routes = vh.routes.map((r): RouteExplanation => {
    const blocks = r.matches.map((m): MatchBlockExplanation => {
      const reason = m.sourceFailure ?? firstFailure(m.conditions, view);
      return { index: m.index, name: m.name, matched: reason === undefined, reason };
    });
    const matched = r.route.matches.length === 0 || blocks.some((b) => b.matched);
    return { index: r.index, name: r.route.name, origin: r.origin, matched, blocks };
  });
  const sel = vh.select(req);
  const chosen =
    sel === undefined
      ? undefined
      : {
          index: sel.route.index,
          name: sel.route.route.name,
          origin: sel.route.origin,
          matchIndex: sel.matchIndex,
        };
  return { virtualHost: vh.name, routes, chosen };
}

/** The explanation as `alder explain` prints it, one line per route and per failed block. */
export function formatExplanation(e: Explanation): string {
  const lines = [`virtual host ${e.virtualHost}:`];
  for (const r of e.routes) {
    const head = `  route ${r.index} ${JSON.stringify(r.name)} (${r.origin})`;
    const chosen = e.chosen?.index === r.index;
    if (!r.matched) lines.push(`${head}: no match`);
    else if (chosen) lines.push(`${head}: MATCHED${blockLabel(r.blocks, e.chosen?.matchIndex ?? -1)}`);
    else lines.push(`${head}: would match, but an earlier route was chosen`);
    for (const b of r.blocks) {
      if (b.matched) continue;
      lines.push(
        `    match ${b.index}${b.name === undefined ? '' : ` ${JSON.stringify(b.name)}`}: ${b.reason}`,
      );
    }
  }
  lines.push(
    e.chosen === undefined
      ? 'chosen: none — no route matches, the proxy answers 404 (flag NR)'
      : `chosen: route ${e.chosen.index} ${JSON.stringify(e.chosen.name)} from ${e.chosen.origin}`,
  );
  return lines.join('\n');
}

function blockLabel(blocks: MatchBlockExplanation[], matchIndex: number): string {
  if (matchIndex === -1) return ' (no match conditions)';
  const b = blocks[matchIndex];
  return ` by match ${matchIndex}${b?.name === undefined ? '' : ` ${JSON.stringify(b.name)}`}`;
}
