// The kinds Alder validates and stores but no proxy acts on yet, each with what is missing. `alder
// validate`, `alder apply` and the control plane's admission report them, so that a stored policy is
// never mistaken for an enforced one. Delete a kind's entry in the change that makes proxies act on it.

/** Kind → what is missing, in words that follow "not enforced yet: ". */
export const NOT_ENFORCED_KINDS: ReadonlyMap<string, string> = new Map([
  ['Gateway', 'Alder runs no gateway proxies in this version, so nothing listens on their servers'],
]);

/** How many objects of one kind no proxy enforces yet, and why. */
export interface NotEnforcedKind {
  kind: string;
  count: number;
  reason: string;
}

/** One entry per kind among `objects` that no proxy enforces yet, in the order each kind first appears. */
export function notEnforcedKinds(objects: Iterable<{ kind: string }>): NotEnforcedKind[] {
  const byKind = new Map<string, NotEnforcedKind>();
  for (const { kind } of objects) {
    const reason = NOT_ENFORCED_KINDS.get(kind);
    if (reason === undefined) continue;
    const entry = byKind.get(kind) ?? { kind, count: 0, reason };
    entry.count++;
    byKind.set(kind, entry);
  }
  return [...byKind.values()];
}

/** `2 AuthorizationPolicy stored but not enforced yet: proxies do not apply …` */
export function formatNotEnforced(n: NotEnforcedKind, done: 'stored' | 'validated'): string {
  return `${n.count} ${n.kind} ${done} but not enforced yet: ${n.reason}`;
}
