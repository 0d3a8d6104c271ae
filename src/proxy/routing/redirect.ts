// The Location of an HTTPRedirect, built as Istio configures Envoy (ApplyRedirect) and as Envoy
// composes it (Http::Utility::newUri): scheme, then host with the port rules below, then the path,
// whose query the request keeps unless the redirect's uri carries one. The router sends the reply.

import type { RedirectAction } from '../../wire/index.ts';
import type { RouteRequest } from './route-request.ts';

export interface RedirectReply {
  status: number;
  location: string;
}

/**
 * Port rules: `port`, or FROM_REQUEST_PORT (the port the request was addressed to), replaces the
 * host's port, and is left out when it is the scheme's default (80 for http, 443 for https), as
 * Istio does. Otherwise (FROM_PROTOCOL_DEFAULT, or nothing) Envoy keeps the request's host as it is,
 * dropping its port only when the scheme changes and the port was the old scheme's default.
 */
export function redirectReply(action: RedirectAction, req: RouteRequest): RedirectReply {
  const scheme = action.scheme ?? req.scheme;
  let port = action.port ?? (action.derivePort === 'FROM_REQUEST_PORT' ? req.port : undefined);
  if ((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https')) port = undefined;
  const portText = port === undefined ? '' : `:${port}`;
  const host = action.authority ?? requestHost(req.authority, scheme, req.scheme, portText !== '');
  let path = req.path;
  if (action.uri !== undefined && action.uri !== '') {
    const q = req.path.indexOf('?');
    path = action.uri.includes('?') || q === -1 ? action.uri : action.uri + req.path.slice(q);
  }
  if (!path.startsWith('/')) path = `/${path}`;
  return { status: action.status, location: `${scheme}://${host}${portText}${path}` };
}

/** Envoy's processRequestHost: the request's host, without its port when the port must not stay. */
function requestHost(host: string, newScheme: string, oldScheme: string, hasNewPort: boolean): string {
  const colon = host.startsWith('[') ? bracketPortColon(host) : host.lastIndexOf(':');
  if (colon === -1) return host;
  const port = host.slice(colon);
  let drop = hasNewPort;
  if (newScheme !== oldScheme) {
    drop ||= (oldScheme === 'https' && port === ':443') || (oldScheme === 'http' && port === ':80');
  }
  return drop ? host.slice(0, colon) : host;
}

function bracketPortColon(host: string): number {
  const k = host.lastIndexOf(']:');
  return k === -1 ? -1 : k + 1;
}
