// Field types several Istio kinds share: WorkloadSelector, exportTo and Percent. Kind modules
// compose these with the schema builders; kind-specific types live beside their kind.

import { isDns1123Label } from '../names.ts';
import { arr, num, obj, record, type Schema, str } from '../schema.ts';

export { labelMap } from '../metadata.ts';

/**
 * Istio's WorkloadSelector as its webhook and CRD check it: keys not empty, no `*` in keys or values,
 * values at most 63 characters. An empty `matchLabels` selects every workload, which Istio allows
 * with a warning (and so does Alder).
 */
export const workloadSelector = obj(
  {
    matchLabels: record(
      str({
        refine: (v, c) => {
          if (v.length > 63) c.error(`must be at most 63 characters long, got ${v.length}`);
          else if (v.includes('*'))
            c.error(`wildcards are not supported in selectors, got ${JSON.stringify(v)}`);
        },
      }),
      {
        key: str({
          refine: (k, c) => {
            if (k === '') c.error('an empty label key is not supported in selectors');
            else if (k.includes('*'))
              c.error(`wildcards are not supported in selectors, got key ${JSON.stringify(k)}`);
          },
        }),
      },
    ),
  },
  {
    name: 'a workload selector',
    refine: (v, c) => {
      if (Object.keys(v.matchLabels ?? {}).length === 0) {
        c.warn('has no labels, so it selects every workload in the namespace: omit it to say so');
      }
    },
  },
);

/** Istio's Percent: a double between 0 and 100. */
export const percent = obj({ value: num({ min: 0, max: 100 }) }, { name: 'a percentage' });

/**
 * `exportTo`, with Istio's rules: `.` (this namespace), `*` (every namespace) or namespace names;
 * `*` stands alone; no duplicates (`.` and this namespace's own name count as one). `~` (visible to
 * no other namespace) only where `allowNone` (ServiceEntry), and then alone.
 */
export function exportTo(options: { allowNone?: boolean } = {}): Schema<string[]> {
  const entry = str({
    refine: (v, c) => {
      if (v === '~' && !options.allowNone) {
        c.error('"~" (none) is not allowed here: use "." to keep it in this namespace');
      } else if (v !== '.' && v !== '*' && v !== '~' && !isDns1123Label(v)) {
        c.error(`must be ".", "*" or a namespace name (a DNS-1123 label), got ${JSON.stringify(v)}`);
      }
    },
  });
  return arr(entry, {
    refine: (v, c) => {
      const seen = new Set<string>();
      v.forEach((ns, i) => {
        const key = ns === '.' ? c.context.namespace : ns;
        if (seen.has(key)) {
          c.error(
            key === ns
              ? `duplicate entry ${JSON.stringify(ns)}`
              : `duplicate entries "." and ${JSON.stringify(key)} (this namespace)`,
            i,
          );
        }
        seen.add(key);
      });
      if (v.length > 1 && v.includes('*'))
        c.error('"*" exports to every namespace and must be the only entry');
      if (v.length > 1 && v.includes('~')) c.error('"~" exports to no namespace and must be the only entry');
    },
  });
}
