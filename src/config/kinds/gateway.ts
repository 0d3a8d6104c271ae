// Gateway (networking.istio.io): the servers (port, protocol, hosts, TLS) a load balancer at the
// edge of the mesh exposes, checked as Istio's ValidateGateway, validateServer and validateServerPort
// do. TLS settings live in server-tls.ts; routes bind to gateways from virtual-service.ts.

import type { KindInfo } from '../kind-info.ts';
import { isIpAddress } from '../names.ts';
import { arr, type Checker, type Infer, int, notImplemented, obj, record, str } from '../schema.ts';
import { checkNamespacedHost, unixAddressProblem } from './istio-hosts.ts';
import { isHttpProtocol, isTlsProtocol, PROTOCOLS, parseProtocol } from './protocol.ts';
import { serverTlsSettings, tlsModeOf } from './server-tls.ts';

const UNIX_PREFIX = 'unix://';

/** A port protocol Istio knows, in any case. */
export const portProtocol = str({
  refine: (v, c) => {
    if (parseProtocol(v) === undefined) {
      c.error(`must be one of ${PROTOCOLS.join(', ')} (any case), got ${JSON.stringify(v)}`);
    }
  },
});

const serverPort = obj(
  {
    number: int({ min: 0, max: 65535 }),
    protocol: portProtocol,
    name: str({ minLength: 1 }),
    targetPort: int({
      min: 0,
      max: 4294967295,
      refine: (v, c) => {
        if (v > 0) c.error('has no effect on Gateways: remove it');
      },
    }),
  },
  { name: 'a port (number, protocol, name)', required: ['number', 'protocol', 'name'] },
);

/** `unix:///path`, `unix://@abstract`, or an IP address. */
const bind = str({
  refine: (v, c) => {
    if (v.startsWith(UNIX_PREFIX)) {
      const problem = unixAddressProblem(v.slice(UNIX_PREFIX.length));
      if (problem !== undefined) c.error(problem);
    } else if (v !== '' && !isIpAddress(v)) {
      c.error(`must be an IP address or a unix:// socket path, got ${JSON.stringify(v)}`);
    }
  },
});

const server = obj(
  {
    port: serverPort,
    bind,
    hosts: arr(str({ refine: (v, c) => checkNamespacedHost(v, c, true) }), { minItems: 1 }),
    tls: serverTlsSettings,
    name: str(),
    defaultEndpoint: notImplemented(str(), 'Gateway server defaultEndpoint (undocumented in Istio)'),
  },
  { name: 'a server (port, hosts, tls)', required: ['port', 'hosts'], refine: (v, c) => checkServer(v, c) },
);

export type Server = Infer<typeof server>;

/** Istio's validateServer and validateServerBind: the port against the bind, TLS against the protocol. */
function checkServer(s: Server, c: Checker): void {
  const isUnix = s.bind?.startsWith(UNIX_PREFIX) ?? false;
  if (isUnix && s.port.number !== 0) {
    c.error(`must be 0 when bind is a unix domain socket, got ${s.port.number}`, 'port', 'number');
  } else if (!isUnix && s.port.number === 0) {
    c.error('must be between 1 and 65535 (0 only with a unix:// bind), got 0', 'port', 'number');
    return;
  }
  const protocol = parseProtocol(s.port.protocol);
  if (isTlsProtocol(protocol)) {
    if (s.tls === undefined) c.error(`is required for ${s.port.protocol} servers`, 'tls');
    return;
  }
  if (s.tls === undefined) return;
  if (!isHttpProtocol(protocol)) {
    c.error(`must not be set for ${s.port.protocol} servers: TLS needs protocol HTTPS or TLS`, 'tls');
    return;
  }
  const mode = tlsModeOf(s.tls);
  const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
  if (!passthrough || s.tls.caCertificates || s.tls.privateKey || s.tls.serverCertificate) {
    c.error(
      `a plain-text ${s.port.protocol} server may use tls only for httpsRedirect: use protocol HTTPS to terminate TLS`,
      'tls',
    );
  }
}

const gatewayFields = {
  /** Labels of the gateway workloads these servers apply to. */
  selector: record(str()),
  servers: arr(server),
};

export const gatewaySpec = obj(gatewayFields, {
  name: 'a Gateway spec',
  refine: (v, c) => {
    const servers = v.servers ?? [];
    if (servers.length === 0) {
      c.error('must have at least one server', 'servers');
      return;
    }
    const portNames = new Map<string, number>();
    servers.forEach((s, i) => {
      const earlier = portNames.get(s.port.name);
      if (earlier !== undefined) {
        c.error(
          `duplicates the port name of servers[${earlier}]: port names must be unique`,
          'servers',
          i,
          'port',
          'name',
        );
      } else {
        portNames.set(s.port.name, i);
      }
      if (s.tls?.httpsRedirect && !isHttpProtocol(parseProtocol(s.port.protocol))) {
        c.warn(
          `has an effect only on HTTP servers, not ${s.port.protocol}`,
          'servers',
          i,
          'tls',
          'httpsRedirect',
        );
      }
    });
  },
});

export type GatewaySpec = Infer<typeof gatewaySpec>;
export type { ServerTLSSettings } from './server-tls.ts';

export const gateway: KindInfo<GatewaySpec> = {
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'gateways',
  shortNames: ['gw'],
  namespaced: true,
  nameRule: 'dns1123-label',
  spec: gatewaySpec,
  // The CRD does not require spec, but Istio's validation refuses a Gateway without servers.
  specRequired: true,
};
