// Host names as Istio's pilot compares them: short names made fully qualified in the namespace of
// the config that wrote them, wildcard matching (`*.example.com`), the most specific match among
// several, and exportTo visibility. Used by VirtualService, DestinationRule and ServiceEntry lookups.

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Istio's ResolveShortnameToFQDN: a name without a dot (`reviews`) becomes
 * `reviews.<namespace>.svc.cluster.local`; `*`, IP addresses and dotted names stay as written.
 */
export function resolveShortname(host: string, namespace: string): string {
  if (host === '' || host === '*' || IPV4.test(host) || host.includes(':') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.cluster.local`;
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}

/** Istio's host.Name.Matches: equal, or one covers the other through a leading `*`. */
export function hostsMatch(a: string, b: string): boolean {
  const aWild = isWildcard(a);
  const bWild = isWildcard(b);
  if (aWild && bWild) {
    return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  }
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * Istio's MostSpecificHostMatch: the candidate whose host equals `needle`, else the longest wildcard
 * covering it. Candidates are in precedence order: on a tie, the first wins.
 */
export function mostSpecificMatch<T>(
  needle: string,
  candidates: readonly T[],
  hostOf: (candidate: T) => string,
): T | undefined {
  let best: T | undefined;
  let bestLength = -1;
  for (const c of candidates) {
    const h = hostOf(c);
    if (h === needle) return c;
    if (!isWildcard(h) || h.length <= bestLength) continue;
    const suffix = h.slice(1);
    const covered = isWildcard(needle) ? needle.slice(1).endsWith(suffix) : needle.endsWith(suffix);
    if (!covered) continue;
    best = c;
    bestLength = h.length;
  }
  return best;
}

/**
 * Whether an `exportTo` list makes config of `owner` namespace visible in `client` namespace. Empty
 * means every namespace (Istio's default); `.` is the owner's own namespace; `~` is none.
 */
export function isExportedTo(
  exportTo: readonly string[] | undefined,
  owner: string,
  client: string,
): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? owner : e) === client);
}
