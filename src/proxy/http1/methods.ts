// Which request methods the proxy forwards: those of IANA's HTTP Method Registry, plus the MeshConfig's
// `http.extensionMethods`, matched case-sensitively (RFC 9110 §9.1). The set is built once per snapshot
// (http1Limits); the request-line reader and the HTTP/2 paths only look names up in it.

/**
 * IANA's "Hypertext Transfer Protocol (HTTP) Method Registry" (https://www.iana.org/assignments/http-methods),
 * as of RFC 10008 (QUERY, June 2026): RFC 9110's eight, PATCH (RFC 5789), PRI (RFC 9113 §3.4), QUERY, and
 * the WebDAV family registered by RFC 7237. The reserved name `*` (RFC 9110 §18.2) is not a method.
 */
export const REGISTERED_METHODS: readonly string[] = Object.freeze([
  'ACL',
  'BASELINE-CONTROL',
  'BIND',
  'CHECKIN',
  'CHECKOUT',
  'CONNECT',
  'COPY',
  'DELETE',
  'GET',
  'HEAD',
  'LABEL',
  'LINK',
  'LOCK',
  'MERGE',
  'MKACTIVITY',
  'MKCALENDAR',
  'MKCOL',
  'MKREDIRECTREF',
  'MKWORKSPACE',
  'MOVE',
  'OPTIONS',
  'ORDERPATCH',
  'PATCH',
  'POST',
  'PRI',
  'PROPFIND',
  'PROPPATCH',
  'PUT',
  'QUERY',
  'REBIND',
  'REPORT',
  'SEARCH',
  'TRACE',
  'UNBIND',
  'UNCHECKOUT',
  'UNLINK',
  'UNLOCK',
  'UPDATE',
  'UPDATEREDIRECTREF',
  'VERSION-CONTROL',
]);

/** The methods forwarded by default: the registry alone. */
export const DEFAULT_METHODS: ReadonlySet<string> = new Set(REGISTERED_METHODS);

/** The registry plus `extensionMethods`, as a Set to look names up in (never changed after this). */
export function methodSet(extensionMethods: readonly string[]): ReadonlySet<string> {
  if (extensionMethods.length === 0) return DEFAULT_METHODS;
  return new Set([...REGISTERED_METHODS, ...extensionMethods]);
}

/** Shown of a refused method at most: a method may be as long as the request line. */
const SHOWN_BYTES = 40;

/**
 * Why a method is refused, in words for the caller: the method (cut to 40 bytes), what is wrong, and
 * the MeshConfig field that allows it. `isTooLong` when it is over `maxMethodBytes`.
 */
export function methodRefusal(method: string, isTooLong: boolean, maxMethodBytes: number): string {
  const shown = JSON.stringify(method.length > SHOWN_BYTES ? `${method.slice(0, SHOWN_BYTES)}…` : method);
  if (isTooLong) {
    return `method ${shown} is longer than ${maxMethodBytes} bytes; raise MeshConfig http.maxMethodLength to allow it`;
  }
  const upper = method.toUpperCase();
  const hint =
    upper !== method && DEFAULT_METHODS.has(upper)
      ? ` (methods are case-sensitive: did you mean "${upper}"?)`
      : '';
  return `method ${shown} is not in the IANA HTTP Method Registry${hint}; list it in MeshConfig http.extensionMethods to allow it`;
}
