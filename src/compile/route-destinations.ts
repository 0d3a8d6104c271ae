// Route destinations as clusters, as Istio's GetDestinationCluster names them for a sidecar: the
// destination's port when given; else the virtual host's port when the destination service has it;
// else the service's only port; else the virtual host's port. Weights as Istio sends them: a single
// destination takes everything, among several a weight of 0 is dropped.

import type { Destination, Headers } from '../config/index.ts';
import type { HeaderOperations, WeightedDestination } from '../wire/index.ts';
import { clusterName } from './clusters.ts';
import { translateHeaders } from './header-operations.ts';
import type { MeshService } from './registry.ts';

export interface DestinationContext {
  /** The service port of the virtual host being built. */
  port: number;
  lookup: (hostname: string) => MeshService | undefined;
}

export function destinationCluster(d: Destination, ctx: DestinationContext): string {
  return clusterName(destinationPort(d, ctx), d.subset ?? '', d.host);
}

function destinationPort(d: Destination, ctx: DestinationContext): number {
  if (d.port?.number !== undefined) return d.port.number;
  const ports = ctx.lookup(d.host)?.ports ?? [];
  if (ports.some((p) => p.number === ctx.port)) return ctx.port;
  const only = ports.length === 1 ? ports[0] : undefined;
  return only?.number ?? ctx.port;
}

export interface WeightedInput {
  destination: Destination;
  weight?: number;
  headers?: Headers;
}

export interface TranslatedDestinations {
  destinations: WeightedDestination[];
  /** A single destination's authority rewrite (from its `headers`), which Istio lifts to the route. */
  authority: string | undefined;
}

export function weightedDestinations(
  inputs: readonly WeightedInput[],
  ctx: DestinationContext,
): TranslatedDestinations {
  const isSingle = inputs.length === 1;
  let authority: string | undefined;
  const destinations = inputs.flatMap((input): WeightedDestination[] => {
    if (!isSingle && (input.weight ?? 0) === 0) return [];
    const d = input.destination;
    const translated = translateHeaders(input.headers);
    let headers: HeaderOperations | undefined = translated.operations;
    if (translated.authority !== undefined) {
      if (isSingle) authority = translated.authority;
      else headers = withHostSet(headers, translated.authority);
    }
    return [
      {
        cluster: destinationCluster(d, ctx),
        weight: isSingle ? 100 : (input.weight as number),
        host: d.host,
        ...(d.subset === undefined || d.subset === '' ? {} : { subset: d.subset }),
        ...(headers === undefined ? {} : { headers }),
      },
    ];
  });
  return { destinations, authority };
}

/** Among several destinations, one's authority rewrite stays with it as a `host` header set. */
function withHostSet(headers: HeaderOperations | undefined, authority: string): HeaderOperations {
  const request = headers?.request ?? {};
  return { ...headers, request: { ...request, set: [...(request.set ?? []), ['host', authority]] } };
}
