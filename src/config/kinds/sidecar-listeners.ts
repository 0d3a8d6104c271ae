// A Sidecar's ingress and egress listeners, checked as Istio's ValidateSidecar does listener by
// listener: ports and binds (IP or unix domain socket), the default endpoint (IP only), ingress TLS and
// connection pools, egress hosts in `namespace/dnsName` form. sidecar.ts checks the lists as a whole.

import { isIpAddress } from '../names.ts';
import { arr, type Checker, type Infer, int, obj, str } from '../schema.ts';
import { checkNamespacedHost, isIstioLabel, unixAddressProblem } from './istio-hosts.ts';
import { isHttpProtocol, isTlsProtocol, PROTOCOLS, parseProtocol } from './protocol.ts';
import { serverTlsSettings } from './server-tls.ts';
import { connectionPool } from './traffic-policy.ts';

export const UNIX_PREFIX = 'unix://';

/** Istio's SidecarPort: every field optional; an empty protocol means "sniff it". */
const sidecarPort = obj(
  {
    number: int({ min: 0, max: 65535 }),
    protocol: str({
      refine: (v, c) => {
        if (v !== '' && parseProtocol(v) === undefined) {
          c.error(
            `must be one of ${PROTOCOLS.join(', ')} (any case), or empty to detect it, got ${JSON.stringify(v)}`,
          );
        }
      },
    }),
    name: str({
      refine: (v, c) => {
        if (v !== '' && !isIstioLabel(v))
          c.error(`must be a port name (a DNS-1123 label), got ${JSON.stringify(v)}`);
      },
    }),
    targetPort: int({
      min: 0,
      max: 4294967295,
      refine: (v, c) => {
        if (v > 0) c.error('has no effect on Sidecars: remove it');
      },
    }),
  },
  { name: 'a port (number, protocol, name)' },
);

const captureMode = str({ enum: ['DEFAULT', 'IPTABLES', 'NONE'] });

export const ingressListener = obj(
  {
    port: sidecarPort,
    bind: str(),
    captureMode,
    defaultEndpoint: str(),
    tls: serverTlsSettings,
    connectionPool,
  },
  {
    name: 'an ingress listener (port, defaultEndpoint, …)',
    required: ['port'],
    refine: (v, c) => checkIngress(v, c),
  },
);

export type IstioIngressListener = Infer<typeof ingressListener>;

/** Istio's validateSidecarIngressPortAndBind, defaultEndpoint and TLS checks. */
function checkIngress(l: IstioIngressListener, c: Checker): void {
  if (l.port.number === undefined || l.port.number === 0) {
    c.error('must be between 1 and 65535 for an ingress listener', 'port', 'number');
  }
  if (l.bind) checkIpBind(l.bind, c);
  if (l.defaultEndpoint) checkDefaultEndpoint(l.defaultEndpoint, c);
  if (l.tls !== undefined) {
    const refuse = (why: string, ...at: string[]) =>
      c.error(`is not supported in Sidecar ingress tls: ${why}`, 'tls', ...at);
    if (l.tls.subjectAltNames?.length) refuse('remove it', 'subjectAltNames');
    if (l.tls.httpsRedirect) refuse('remove it', 'httpsRedirect');
    if (l.tls.credentialName) refuse('use serverCertificate and privateKey', 'credentialName');
    if (l.tls.credentialNames?.length) refuse('use serverCertificate and privateKey', 'credentialNames');
    if (l.tls.tlsCertificates?.length) refuse('use serverCertificate and privateKey', 'tlsCertificates');
    if (l.tls.mode === 'ISTIO_MUTUAL' || l.tls.mode === 'AUTO_PASSTHROUGH') {
      refuse('use SIMPLE, MUTUAL or OPTIONAL_MUTUAL', 'mode');
    }
    if (!isTlsProtocol(parseProtocol(l.port.protocol ?? ''))) {
      c.error('needs port.protocol HTTPS or TLS', 'tls');
    }
  }
  if (l.connectionPool?.http !== undefined && !isHttpProtocol(parseProtocol(l.port.protocol ?? ''))) {
    c.warn(
      `applies only to HTTP, but port ${l.port.number} has protocol ${JSON.stringify(l.port.protocol ?? '')}: only the tcp settings take effect`,
      'connectionPool',
      'http',
    );
  }
}

function checkIpBind(bind: string, c: Checker): void {
  if (!isIpAddress(bind)) c.error(`must be an IP address, got ${JSON.stringify(bind)}`, 'bind');
}

const LOCAL_HOSTS = new Set(['', '127.0.0.1', '0.0.0.0', '::1', '::']);

/**
 * `127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`, `[::]:8080` or `:8080`. Istio also takes
 * `unix:///path`, which Alder's proxies cannot forward to yet: refused, never sent to a port instead.
 */
function checkDefaultEndpoint(endpoint: string, c: Checker): void {
  const hint = 'must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port> or [::]:<port>';
  if (endpoint.startsWith(UNIX_PREFIX)) {
    c.error('unix domain sockets are not supported; use 127.0.0.1:PORT or 0.0.0.0:PORT', 'defaultEndpoint');
    return;
  }
  const split = splitHostPort(endpoint);
  if (split === undefined || !LOCAL_HOSTS.has(split.host)) {
    c.error(`${hint}, got ${JSON.stringify(endpoint)}`, 'defaultEndpoint');
    return;
  }
  const port = /^[+-]?\d+$/.test(split.port) ? Number(split.port) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    c.error(`${hint}, with a port between 1 and 65535, got ${JSON.stringify(endpoint)}`, 'defaultEndpoint');
  }
}

/** Go's net.SplitHostPort, for the forms defaultEndpoint may take. */
function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1 || s[end + 1] !== ':') return undefined;
    return { host: s.slice(1, end), port: s.slice(end + 2) };
  }
  const colon = s.lastIndexOf(':');
  if (colon === -1 || s.indexOf(':') !== colon) return undefined;
  return { host: s.slice(0, colon), port: s.slice(colon + 1) };
}

export const egressListener = obj(
  {
    port: sidecarPort,
    bind: str(),
    captureMode,
    hosts: arr(str({ refine: (v, c) => checkNamespacedHost(v, c, false) }), { minItems: 1 }),
  },
  { name: 'an egress listener (port, hosts, …)', required: ['hosts'], refine: (v, c) => checkEgress(v, c) },
);

export type IstioEgressListener = Infer<typeof egressListener>;

/** Istio's validateSidecarEgressPortBindAndCaptureMode; a listener without port is not checked. */
function checkEgress(l: IstioEgressListener, c: Checker): void {
  if (l.port === undefined) return;
  if ((l.port.number ?? 0) !== 0) {
    if (l.bind) checkIpBind(l.bind, c);
    return;
  }
  // Port 0: a listener on a unix domain socket.
  if (!l.bind?.startsWith(UNIX_PREFIX)) {
    c.error('must be a unix:// socket path when port.number is 0 (or set port.number)', 'bind');
  } else {
    const problem = unixAddressProblem(l.bind.slice(UNIX_PREFIX.length));
    if (problem !== undefined) c.error(problem, 'bind');
  }
  if (l.captureMode !== undefined && l.captureMode !== 'DEFAULT' && l.captureMode !== 'NONE') {
    c.error('must be DEFAULT or NONE for a unix domain socket listener', 'captureMode');
  }
}
