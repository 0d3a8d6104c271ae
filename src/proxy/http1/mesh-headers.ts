// The mesh's own headers, `x-alder-*` (the response flags of the proxy's local replies): a caller's
// or an app's copies are dropped, so that nobody can pass their words off as the mesh's. Requests drop
// them in router/request-headers.ts; the response paths call withoutMeshHeaders. Pure.

export const MESH_HEADER_PREFIX = 'x-alder-';

/** True for a lower-case `x-alder-*` name. */
export function isMeshHeader(name: string): boolean {
  return name.startsWith(MESH_HEADER_PREFIX);
}

/**
 * `headers` (`[name, value, ...]`, lower-case names) without `x-alder-*` fields. Returns `headers`
 * itself when there is none (the usual case: no copy); otherwise a new array.
 */
export function withoutMeshHeaders(headers: string[]): string[] {
  let k = 0;
  while (k < headers.length && !isMeshHeader(headers[k] as string)) k += 2;
  if (k >= headers.length) return headers;
  const out = headers.slice(0, k);
  for (k += 2; k < headers.length; k += 2) {
    const name = headers[k] as string;
    if (!isMeshHeader(name)) out.push(name, headers[k + 1] as string);
  }
  return out;
}
