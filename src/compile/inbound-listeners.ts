// Inbound listeners: one per port this workload serves for the Services that select it, with the
// mTLS mode PeerAuthentication gives that port and the app address (a Sidecar ingress
// defaultEndpoint, else the app's address on the same port).

import {
  AlderError,
  ErrorCode,
  protocolOfPort,
  type Resource,
  type ServicePort,
  type SidecarSpec,
  type WorkloadEntrySpec,
} from '../config/index.ts';
import type { InboundListener, ProxyIdentity } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf, refName, selects, serviceFqdn } from './config-index.ts';
import { sidecarFor } from './egress.ts';
import { resolveMtlsMode } from './peer-authentication.ts';
import { portTraffic } from './port-traffic.ts';

export function inboundListeners(
  entry: Resource<WorkloadEntrySpec>,
  proxy: ProxyIdentity,
  config: IndexedConfig,
): InboundListener[] {
  const byPort = new Map<number, InboundListener>();
  const sidecar = sidecarFor(config.sidecars, proxy.namespace, proxy.labels);
  for (const svc of config.services) {
    if (namespaceOf(svc) !== proxy.namespace || !selects(svc.spec?.selector, proxy.labels)) continue;
    for (const port of svc.spec?.ports ?? []) {
      const at = endpointPort(port, entry);
      if (at === undefined || port.protocol === 'UDP') continue;
      const fqdn = serviceFqdn(svc.metadata.name, proxy.namespace);
      const existing = byPort.get(at);
      if (existing !== undefined) {
        existing.services.push(fqdn);
        continue;
      }
      const app = appEndpoint(sidecar, at, proxy.appAddress ?? '127.0.0.1');
      byPort.set(at, {
        kind: 'inbound',
        name: `inbound|${at}`,
        address: proxy.address,
        port: at,
        ...portTraffic(protocolOfPort(port), config.mesh.protocolDetection.enabled),
        mtlsMode: resolveMtlsMode(config.peerAuthentications, {
          namespace: proxy.namespace,
          labels: proxy.labels,
          port: at,
          rootNamespace: config.mesh.rootNamespace,
          meshDefault: config.mesh.mtls.mode,
        }),
        app,
        services: [fqdn],
      });
    }
  }
  return [...byPort.values()];
}

/** The port a workload serves a service port on: its own `ports` entry, else targetPort, else port. */
function endpointPort(port: ServicePort, entry: Resource<WorkloadEntrySpec>): number | undefined {
  const own = port.name === undefined ? undefined : entry.spec?.ports?.[port.name];
  if (own !== undefined) return own;
  const target = port.targetPort;
  if (typeof target === 'number' && target > 0) return target;
  if (typeof target === 'string' && target !== '') return entry.spec?.ports?.[target];
  return port.port;
}

/**
 * Where port `at` forwards to: its Sidecar ingress defaultEndpoint (`127.0.0.1:8080` → address and
 * port), else the app's address (127.0.0.1 unless the entry names one) on the same port. Throws on an endpoint it cannot forward to (a unix socket
 * that validation would refuse), rather than forward somewhere else.
 */
function appEndpoint(
  sidecar: Resource<SidecarSpec> | undefined,
  at: number,
  appAddress: string,
): { address: string; port: number } {
  const index = sidecar?.spec?.ingress?.findIndex((i) => i.port?.number === at) ?? -1;
  const endpoint = sidecar?.spec?.ingress?.[index]?.defaultEndpoint;
  if (sidecar === undefined || endpoint === undefined || endpoint === '')
    return { address: appAddress, port: at };
  const m = /^(.*):(\d+)$/.exec(endpoint);
  if (m === null || endpoint.startsWith('unix:')) {
    const why = endpoint.startsWith('unix:') ? 'unix domain sockets are not supported' : 'not HOST:PORT';
    throw new AlderError(
      ErrorCode.CompileFailed,
      `Sidecar ${refName(sidecar)}: spec.ingress[${index}].defaultEndpoint: ${why}, got ${JSON.stringify(endpoint)}`,
      { hint: 'use 127.0.0.1:PORT or 0.0.0.0:PORT' },
    );
  }
  return { address: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
