// sourceLabels and sourceNamespace of a match block name the calling workload, which for a sidecar
// is the proxy itself: they are decided once per snapshot, and the reason kept for explanations.

import type { ProxyIdentity } from '../../wire/index.ts';

/** Why this proxy is not the source a match block asks for, or undefined when it is. */
export function sourceFailure(
  m: { sourceLabels?: Record<string, string>; sourceNamespace?: string },
  self: ProxyIdentity,
): string | undefined {
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== self.namespace) {
    return `sourceNamespace ${m.sourceNamespace}: this proxy is in namespace ${self.namespace}`;
  }
  for (const [key, want] of Object.entries(m.sourceLabels ?? {})) {
    const got = self.labels[key];
    if (got === want) continue;
    return `sourceLabels ${key}=${want}: this proxy has ${got === undefined ? `no label ${key}` : `${key}=${got}`}`;
  }
  return undefined;
}
