// Istio's `headers` operations, compiled per destination into the stages Envoy runs. In each stage
// Envoy removes first, then sets, then adds, and skips empty values. A single destination's edits
// join the route's stage (Istio appends them to the route); a weighted destination's run first, then the route's.

import type { HeaderEdits, HeaderOperations } from '../../wire/index.ts';

export interface HeaderEditStage {
  readonly remove: ReadonlySet<string>;
  /** Replace every value of the name (last one wins within a stage). */
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
}

/** The stages to run on one direction's headers, in order; empty when nothing changes. */
export interface HeaderEditPlan {
  readonly stages: readonly HeaderEditStage[];
}

export interface HeaderEditPlans {
  readonly request: HeaderEditPlan;
  readonly response: HeaderEditPlan;
}

/**
 * The edits for requests sent to one destination of a route. `isWeighted`: the route has several
 * destinations, so Envoy holds this destination's edits on its weighted cluster and runs them
 * before the route's (WeightedClusterEntry::finalizeRequestHeaders).
 */
export function compileHeaderEdits(
  route: HeaderOperations | undefined,
  destination: HeaderOperations | undefined,
  isWeighted: boolean,
): HeaderEditPlans {
  const plan = (pick: (o: HeaderOperations | undefined) => HeaderEdits | undefined): HeaderEditPlan => {
    const r = pick(route);
    const d = pick(destination);
    const stages = isWeighted ? [stage([d]), stage([r])] : [stage([r, d])];
    return { stages: stages.filter((s) => s.remove.size + s.set.length + s.add.length > 0) };
  };
  return { request: plan((o) => o?.request), response: plan((o) => o?.response) };
}

/** Istio drops edits of pseudo-headers and Host (authority is a rewrite); Envoy skips empty values. */
function isEditable(name: string, value = 'x'): boolean {
  return !name.startsWith(':') && name !== 'host' && value !== '';
}

function stage(edits: (HeaderEdits | undefined)[]): HeaderEditStage {
  const remove = new Set<string>();
  const set: [string, string][] = [];
  const add: [string, string][] = [];
  for (const e of edits) {
    for (const n of e?.remove ?? []) if (isEditable(n)) remove.add(n);
    for (const [n, v] of e?.set ?? []) if (isEditable(n, v)) set.push([n, v]);
    for (const [n, v] of e?.add ?? []) if (isEditable(n, v)) add.push([n, v]);
  }
  return { remove, set, add };
}

/**
 * Runs a plan on flat `[name, value, …]` headers (lower-case names). Returns a new array when the
 * plan has stages, the input itself otherwise; the input is never modified.
 */
export function applyHeaderEdits(plan: HeaderEditPlan, headers: readonly string[]): readonly string[] {
  if (plan.stages.length === 0) return headers;
  let out = headers.slice();
  for (const s of plan.stages) {
    if (s.remove.size > 0) out = without(out, (n) => s.remove.has(n));
    for (const [name, value] of s.set) {
      out = without(out, (n) => n === name);
      out.push(name, value);
    }
    for (const [name, value] of s.add) out.push(name, value);
  }
  return out;
}

function without(headers: string[], drop: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    const name = headers[k] as string;
    if (!drop(name)) out.push(name, headers[k + 1] as string);
  }
  return out;
}
