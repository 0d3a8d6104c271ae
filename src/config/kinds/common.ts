// Field types several Istio kinds share: StringMatch, WorkloadSelector, exportTo, ports, labels,
// percentages and RE2 regular expressions. Kind modules compose these with the schema builders.

import { labelMap } from '../metadata.ts';
import { checkHost, isDns1123Label } from '../names.ts';
import { arr, type Checker, int, num, obj, type Schema, str } from '../schema.ts';

export { labelMap };

/** Istio's WorkloadSelector: `matchLabels` that must not be empty when the selector is given. */
export const workloadSelector = obj(
  { matchLabels: labelMap },
  {
    name: 'a workload selector',
    refine: (v, c) => {
      if (v.matchLabels !== undefined && Object.keys(v.matchLabels).length === 0) {
        c.error('must not be empty: omit the selector to select every workload', 'matchLabels');
      }
      for (const [k, value] of Object.entries(v.matchLabels ?? {})) {
        if (k.includes('*') || value.includes('*'))
          c.error('wildcards are not allowed in selectors', 'matchLabels', k);
      }
    },
  },
);

export const port = int({ min: 1, max: 65535 });

/** Istio's PortSelector: `{number}`. */
export const portSelector = obj({ number: int({ min: 1, max: 65535 }) }, { name: 'a port selector' });

/** Istio's Percent: a double between 0 and 100. */
export const percent = obj({ value: num({ min: 0, max: 100 }) }, { name: 'a percentage' });

/**
 * A regular expression in RE2 syntax, as Envoy and Istio use. Refuses what RE2 cannot do (look-around,
 * back references) and what does not compile.
 */
export const re2 = str({ refine: (v, c) => void checkRe2(v, c) });

export function checkRe2(pattern: string, c: Checker): boolean {
  if (/\(\?<?[=!]/.test(pattern)) {
    c.error(
      `must be an RE2 regular expression: look-around is not supported, got ${JSON.stringify(pattern)}`,
    );
    return false;
  }
  if (/(^|[^\\])\\[1-9]/.test(pattern)) {
    c.error(
      `must be an RE2 regular expression: back references are not supported, got ${JSON.stringify(pattern)}`,
    );
    return false;
  }
  try {
    new RegExp(toJsRegExpSource(pattern), 'u');
    return true;
  } catch (err) {
    c.error(
      `must be a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
    return false;
  }
}

/** RE2 spells named groups `(?P<name>…)`; JavaScript spells them `(?<name>…)`. */
export function toJsRegExpSource(re2Pattern: string): string {
  return re2Pattern.includes('(?P<') ? re2Pattern.replaceAll('(?P<', '(?<') : re2Pattern;
}

/** Istio's StringMatch: exactly one of exact, prefix, regex. */
export const stringMatch = obj(
  { exact: str(), prefix: str(), regex: re2 },
  {
    name: 'a string match',
    oneOf: [['exact', 'prefix', 'regex']],
    refine: (v, c) => {
      if (v.exact === undefined && v.prefix === undefined && v.regex === undefined) {
        c.error('must set one of exact, prefix, regex');
      }
    },
  },
);

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

/** A host field of VirtualService, DestinationRule, ServiceEntry or Sidecar. */
export const host = str({ refine: (v, c) => void checkHost(v, c) });
