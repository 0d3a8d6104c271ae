// Where the outbound connection managers (HTTP/1 and HTTP/2) send each request from the local app:
// through the listener's route table by the request's authority. A request whose authority names no
// host of the table goes to the connection's default host when it has one: the target of a CONNECT
// tunnel, or the one service of an egress port (a gRPC client's default authority is the port's own
// `127.0.0.1:PORT`), unless it names a mesh service the Sidecar hides. Routing, policies and replies
// are the router's.

import type { Socket } from 'node:net';
import type { OutboundPortListener, OutboundProxyListener } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import { localReply, Reply } from '../local-reply/index.ts';
import { outboundDecision, outboundHop, type RouteDecision } from '../router/index.ts';
import { type HostRuntime, hostFor, type ProxyContext, type Runtime } from '../runtime/index.ts';
import { downstreamOf } from './downstream-of.ts';

export type OutboundListener = OutboundPortListener | OutboundProxyListener;

/**
 * The router of one connection on `spec`. `tunnelTarget`: the `host:port` of the CONNECT request
 * whose tunnel the connection is, the authority of requests that name no known host.
 */
export function outboundRouter(
  socket: Socket,
  spec: OutboundListener,
  ctx: ProxyContext,
  tunnelTarget?: string,
): (req: IncomingRequest) => RouteDecision {
  const routeTable = spec.routeTable ?? '';
  const downstream = downstreamOf(socket);
  const hop = outboundHop(socket.remoteAddress, ctx.current().snapshot.proxy.address);
  const isPort = spec.kind === 'outbound-port';
  if (!isPort && tunnelTarget === undefined) {
    return (req) =>
      req.authority === ''
        ? noAuthority()
        : outboundDecision(req, routeTable, ctx.current(), downstream, hop);
  }
  return (req) => {
    const runtime = ctx.current();
    const table = runtime.hosts.get(routeTable);
    const authority = req.authority.toLowerCase();
    let routed = req;
    if (hostFor(table, authority) === undefined && table !== undefined) {
      const facts = tableFacts(table, routeTable, runtime);
      const fallback = tunnelTarget ?? (isPort ? facts.sole?.vh.name : undefined);
      // A name the Sidecar hides is another mesh service: refused (NR names the Sidecar), never redirected.
      if (fallback !== undefined && !facts.hidden.has(authority)) routed = withAuthority(req, fallback);
    }
    return routed.authority === ''
      ? noAuthority()
      : outboundDecision(routed, routeTable, runtime, downstream, hop);
  };
}

/** A request with no authority at all (and no default host) is refused: there is nothing to route it by. */
function noAuthority(): RouteDecision {
  const why = 'request refused: no authority to route by (HTTP/2 :authority, HTTP/1 Host)';
  return { kind: 'reply', reply: localReply(Reply.BadRequest, why) };
}

/** What a route table says about requests whose authority it lacks. */
interface TableFacts {
  /** The one service (virtual host) the table serves under all its names, if it serves one. */
  readonly sole: HostRuntime | undefined;
  /** The names of mesh services its Sidecar scope hides (when few enough to list). */
  readonly hidden: ReadonlySet<string>;
}

/** Tables are built once per snapshot: their facts are found on first use. */
const facts = new WeakMap<ReadonlyMap<string, HostRuntime>, TableFacts>();

function tableFacts(table: ReadonlyMap<string, HostRuntime>, name: string, runtime: Runtime): TableFacts {
  let found = facts.get(table);
  if (found === undefined) {
    const hosts = new Set(table.values());
    const scope = runtime.snapshot.routeTables.find((t) => t.name === name)?.egressScope;
    found = {
      sole: hosts.size === 1 ? hosts.values().next().value : undefined,
      hidden: new Set(scope?.hiddenDomains ?? []),
    };
    facts.set(table, found);
  }
  return found;
}

/** The request as sent to `authority`: its Host header, when it has one, says so too. */
function withAuthority(req: IncomingRequest, authority: string): IncomingRequest {
  const headers: string[] = [];
  for (let k = 0; k < req.headers.length; k += 2) {
    const name = req.headers[k] as string;
    headers.push(name, name === 'host' ? authority : (req.headers[k + 1] as string));
  }
  return { ...req, authority, headers };
}
