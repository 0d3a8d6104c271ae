// Inbound listeners: one per port this workload serves for the Services that select it, with the
// mTLS mode PeerAuthentication gives that port and the app address (a Sidecar ingress
// defaultEndpoint, else 127.0.0.1 on the same port).

import { protocolOfPort, type Resource, type ServicePort, type WorkloadEntrySpec } from '../config/index.ts';
import type { InboundListener, ProxyIdentity } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf, selects, serviceFqdn } from './config-index.ts';
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
      const ingress = sidecar?.spec?.ingress?.find((i) => i.port?.number === at);
      const app = parseEndpoint(ingress?.defaultEndpoint) ?? { address: '127.0.0.1', port: at };
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

/** `127.0.0.1:8080` → address and port; unix sockets are not served yet. */
function parseEndpoint(text: string | undefined): { address: string; port: number } | undefined {
  const m = text === undefined ? null : /^(.*):(\d+)$/.exec(text);
  if (m === null || (m[1] as string).startsWith('unix')) return undefined;
  return { address: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
