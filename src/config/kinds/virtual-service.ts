// VirtualService (networking.istio.io): how requests to a set of hosts are routed, checked as
// Istio's ValidateVirtualService does. A VirtualService without hosts is a delegate, included by
// another one's `http[].delegate`. Route pieces live in http-route.ts, tcp-route.ts and tls-route.ts.

import type { KindInfo } from '../kind-info.ts';
import { isIpAddress } from '../names.ts';
import { arr, type Checker, type Infer, isPlainObject, obj, type Schema, str } from '../schema.ts';
import { exportTo } from './common.ts';
import { gatewayNames, isJwtClaimHeader } from './http-match.ts';
import { httpRoute } from './http-route.ts';
import {
  gatewayDomainProblem,
  hostIsSubsetOf,
  hostsOverlap,
  isGeneratedSniName,
  wildcardDomainProblem,
} from './istio-hosts.ts';
import { tcpRoute } from './tcp-route.ts';
import { tlsRoute } from './tls-route.ts';
import { warnUnreachableRules } from './unreachable-rules.ts';

/**
 * A host: a DNS name (short, fully qualified or wildcarded), an IP address, or `*`. Istio's
 * generated SNI name passes here; whether it may be used depends on the gateways, checked below.
 */
const vsHost = str({
  refine: (v, c) => {
    if (isIpAddress(v) || isGeneratedSniName(v)) return;
    const problem = wildcardDomainProblem(v);
    if (problem !== undefined) c.error(problem);
  },
});

function specFields(inDelegate: boolean) {
  return {
    hosts: arr(vsHost),
    gateways: gatewayNames,
    http: arr(httpRoute({ inDelegate })),
    tls: arr(tlsRoute),
    tcp: arr(tcpRoute),
    exportTo: exportTo(),
  };
}

type Spec = Infer<ReturnType<typeof specSchema>>;

function specSchema(inDelegate: boolean) {
  return obj(specFields(inDelegate), {
    name: 'a VirtualService spec',
    refine: (v, c) => {
      const gateways = v.gateways ?? [];
      // Bound to gateways only, not to the sidecars of the mesh.
      const appliesToGateway = gateways.length > 0 && !gateways.includes('mesh');
      if (inDelegate) checkDelegate(v, c);
      if (!appliesToGateway) checkJwtClaimRouting(v, c);
      checkHosts(v, appliesToGateway, c);
      checkSniHosts(v, c);
      if (!v.http?.length && !v.tcp?.length && !v.tls?.length)
        c.error('must set at least one of http, tcp, tls');
      warnUnreachableRules('http', v.http ?? [], c);
      warnUnreachableRules('tcp', v.tcp ?? [], c);
      warnUnreachableRules('tls', v.tls ?? [], c);
    },
  });
}

/** A delegate routes only HTTP, and only for the VirtualService that includes it. */
function checkDelegate(v: Spec, c: Checker): void {
  const why = 'a VirtualService without hosts is a delegate, which';
  if (v.gateways?.length)
    c.error(`${why} takes the gateways of its parent: add hosts, or remove gateways`, 'gateways');
  if (v.tls?.length) c.error(`${why} routes HTTP only: add hosts, or remove tls`, 'tls');
  if (v.tcp?.length) c.error(`${why} routes HTTP only: add hosts, or remove tcp`, 'tcp');
}

/** JWT claims are known only where a gateway validated the token. */
function checkJwtClaimRouting(v: Spec, c: Checker): void {
  v.http?.forEach((route, r) => {
    route.match?.forEach((m, i) => {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const name of Object.keys(m[field] ?? {})) {
          if (!isJwtClaimHeader(name)) continue;
          c.error(
            'routing on a JWT claim works only on gateways: list the gateways, without "mesh"',
            'http',
            r,
            'match',
            i,
            field,
            name,
          );
        }
      }
    });
  });
}

function checkHosts(v: Spec, appliesToGateway: boolean, c: Checker): void {
  const hosts = v.hosts ?? [];
  const hasSniMatch = v.tls?.some((t) => t.match?.some((m) => (m.sniHosts?.length ?? 0) > 0)) ?? false;
  let allValid = true;
  hosts.forEach((h, i) => {
    if (isIpAddress(h)) return;
    if (isGeneratedSniName(h) && !(appliesToGateway && hasSniMatch)) {
      c.error(wildcardDomainProblem(h) as string, 'hosts', i);
      allValid = false;
    } else if (!appliesToGateway && h === '*') {
      c.error('"*" is allowed only for VirtualServices bound to gateways (not to "mesh")', 'hosts', i);
      allValid = false;
    }
  });
  if (!allValid) return;
  for (let j = 1; j < hosts.length; j++) {
    for (let i = 0; i < j; i++) {
      if (hostsOverlap(hosts[i] as string, hosts[j] as string)) {
        c.error(`overlaps hosts[${i}] ${JSON.stringify(hosts[i])}: list each host once`, 'hosts', j);
        break;
      }
    }
  }
}

/** Istio's validateSniHost: each SNI host falls under one of the VirtualService's hosts. */
function checkSniHosts(v: Spec, c: Checker): void {
  const hosts = v.hosts ?? [];
  const gatewayBound = !(v.gateways ?? []).includes('mesh');
  v.tls?.forEach((route, r) => {
    route.match?.forEach((m, i) => {
      m.sniHosts?.forEach((sni, k) => {
        if (isIpAddress(sni) && gatewayDomainProblem(sni, true) !== undefined) return;
        const at = ['tls', r, 'match', i, 'sniHosts', k] as const;
        if (!gatewayBound && isGeneratedSniName(sni)) {
          c.error(wildcardDomainProblem(sni) as string, ...at);
        } else if (!hosts.some((h) => hostIsSubsetOf(sni, h))) {
          c.error(
            `must fall under one of the hosts [${hosts.join(', ')}], got ${JSON.stringify(sni)}`,
            ...at,
          );
        }
      });
    });
  });
}

const rootSpec = specSchema(false);
const delegateSpec = specSchema(true);

/** The spec, read as a delegate's when it has no hosts. */
export const virtualServiceSpec: Schema<Spec> = {
  expected: rootSpec.expected,
  check(value, c) {
    const hosts = isPlainObject(value) ? value.hosts : undefined;
    const isDelegate = hosts === undefined || hosts === null || (Array.isArray(hosts) && hosts.length === 0);
    return (isDelegate ? delegateSpec : rootSpec).check(value, c);
  },
};

export type VirtualServiceSpec = Spec;
export type { CorsPolicy } from './cors-policy.ts';
export type { Destination } from './destination.ts';
export type { HeaderOperations, Headers } from './headers.ts';
export type { HTTPDirectResponse } from './http-direct-response.ts';
export type { HTTPFaultInjection } from './http-fault.ts';
export type { HTTPMatchRequest } from './http-match.ts';
export type { HTTPRedirect } from './http-redirect.ts';
export type { HTTPRetry } from './http-retry.ts';
export type { HTTPRewrite } from './http-rewrite.ts';
export type { HTTPRoute, HTTPRouteDestination } from './http-route.ts';
export type { HttpStringMatch } from './http-string-match.ts';
export type { RouteDestination, TCPRoute } from './tcp-route.ts';
export type { TLSRoute } from './tls-route.ts';

/** A list as kubectl prints an array column: `["reviews","ratings"]`. */
const list = (xs: readonly string[] | undefined) => (xs === undefined ? '' : JSON.stringify(xs));

export const virtualService: KindInfo<VirtualServiceSpec> = {
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'virtualservices',
  shortNames: ['vs'],
  namespaced: true,
  spec: virtualServiceSpec,
  // The CRD does not require spec, but Istio's validation refuses a VirtualService without routes.
  specRequired: true,
  printerColumns: [
    { header: 'GATEWAYS', value: (r) => list(r.spec?.gateways) },
    { header: 'HOSTS', value: (r) => list(r.spec?.hosts) },
  ],
};
