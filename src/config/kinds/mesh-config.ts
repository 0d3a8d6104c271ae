// Alder's MeshConfig (mesh.alder.dev): the mesh-wide settings, one cluster-scoped object named
// `default`, with Istio MeshConfig's field names where Istio has one. resolveMeshConfig fills in the
// defaults (docs/mesh-config.md explains each); the compiler reads only the resolved form.

import { parseDurationMs } from '../duration.ts';
import type { KindInfo } from '../kind-info.ts';
import { arr, bool, duration, type Infer, int, num, obj, type Schema, str } from '../schema.ts';

/** The one name a MeshConfig may have. */
export const MESH_CONFIG_NAME = 'default';

/** Istio's ValidateTrustDomain: DNS-1123 labels separated by dots, an empty last label allowed. */
const trustDomain = str({
  refine: (v, c) => {
    const labels = v.split('.');
    if (labels.at(-1) === '' && labels.length > 1) labels.pop();
    if (v === '' || labels.some((l) => l.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l))) {
      c.error(`must be a lowercase DNS name such as "cluster.local", got ${JSON.stringify(v)}`);
    }
  },
});

const namespaceName = str({
  refine: (v, c) => {
    if (v.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
      c.error(`must be a namespace name (a DNS-1123 label), got ${JSON.stringify(v)}`);
    }
  },
});

/** A duration in [minMs, maxMs] to the millisecond, as Istio's ValidateDuration wants. */
function msDuration(minMs: number, maxMs: number): Schema<string> {
  const base = duration({ minMs, maxMs });
  return {
    expected: base.expected,
    check(value, c) {
      if (!base.check(value, c)) return false;
      const ms = parseDurationMs(value as string) as number;
      if (Math.abs(ms - Math.round(ms)) < 1e-9) return true;
      c.error(`must be a whole number of milliseconds, got ${JSON.stringify(value)}`);
      return false;
    },
  };
}

/** The longest method of IANA's registry, UPDATEREDIRECTREF: a lower http.maxMethodLength would refuse it. */
const LONGEST_REGISTERED_METHOD = 17;
const DEFAULT_MAX_METHOD_LENGTH = 32;

/** HTTP request rules every proxy applies to callers' requests (docs/mesh-config.md, `http`). */
const httpSettings = obj(
  {
    headersWithUnderscoresAction: str({ enum: ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'] }),
    extensionMethods: arr(
      str({
        // RFC 9110 §5.6.2 token: what a request line can carry as a method.
        pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
        patternHint: 'a method name (an HTTP token such as "PURGE")',
      }),
    ),
    maxMethodLength: int({ min: LONGEST_REGISTERED_METHOD, max: 1024 }),
    numTrustedProxies: int({ min: 0, max: 64 }),
  },
  {
    name: 'HTTP settings',
    refine: (v, c) => {
      const max = v.maxMethodLength ?? DEFAULT_MAX_METHOD_LENGTH;
      v.extensionMethods?.forEach((m, i) => {
        if (m.length > max) {
          c.error(
            `is ${m.length} bytes, over http.maxMethodLength (${max}): raise maxMethodLength or the method is refused`,
            'extensionMethods',
            i,
          );
        }
      });
    },
  },
);

export const meshConfigSpec = obj(
  {
    trustDomain,
    rootNamespace: namespaceName,
    mtls: obj({ mode: str({ enum: ['STRICT', 'PERMISSIVE'] }) }, { name: 'mesh mTLS settings' }),
    outboundTrafficPolicy: obj(
      { mode: str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] }) },
      { name: 'an outbound traffic policy' },
    ),
    protocolDetection: obj(
      { enabled: bool(), timeout: msDuration(1, 60_000) },
      { name: 'protocol detection settings' },
    ),
    tracing: obj({ sampling: num({ min: 0, max: 100 }) }, { name: 'tracing settings' }),
    accessLogging: obj(
      { enabled: bool(), encoding: str({ enum: ['JSON', 'TEXT'] }) },
      { name: 'access logging settings' },
    ),
    enableAutoMtls: bool(),
    connectTimeout: msDuration(1, 3_600_000),
    hbone: obj({ enabled: bool(), port: int({ min: 1, max: 65535 }) }, { name: 'HBONE tunnel settings' }),
    http: httpSettings,
    pathNormalization: obj(
      {
        normalization: str({
          enum: ['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'],
        }),
      },
      { name: 'path normalization settings' },
    ),
  },
  { name: 'a MeshConfig spec' },
);

export type MeshConfigSpec = Infer<typeof meshConfigSpec>;

/** Every field of MeshConfig set: what the compiler reads. */
export interface MeshConfig {
  trustDomain: string;
  rootNamespace: string;
  mtls: { mode: 'STRICT' | 'PERMISSIVE' };
  outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' };
  protocolDetection: { enabled: boolean; timeout: string };
  tracing: { sampling: number };
  accessLogging: { enabled: boolean; encoding: 'JSON' | 'TEXT' };
  enableAutoMtls: boolean;
  connectTimeout: string;
  hbone: { enabled: boolean; port: number };
  http: {
    headersWithUnderscoresAction: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';
    extensionMethods: string[];
    maxMethodLength: number;
    numTrustedProxies: number;
  };
  /** Istio's DEFAULT is read as BASE, what it means there. */
  pathNormalization: { normalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES' };
}

/** The settings of a mesh without a MeshConfig object; a fresh copy each call. */
export function meshConfigDefaults(): MeshConfig {
  return {
    // The SPIFFE trust domain of workload identities, as in Istio and Kubernetes DNS.
    trustDomain: 'cluster.local',
    // Where mesh-wide policy lives (a PeerAuthentication there applies to every namespace).
    rootNamespace: 'alder-system',
    // Mutual TLS is required between workloads unless a PeerAuthentication relaxes it.
    mtls: { mode: 'STRICT' },
    // Only hosts in the registry (Services, ServiceEntries) are reachable from the mesh.
    outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    // Sniffing is off: a port's protocol comes from its name or appProtocol, unknown means TCP.
    // The timeout applies only when it is turned on (Istio's historic 100ms).
    protocolDetection: { enabled: false, timeout: '100ms' },
    // 1% of requests start a trace, as Istio's default.
    tracing: { sampling: 1 },
    // Every proxy logs each request, as one JSON object per line.
    accessLogging: { enabled: true, encoding: 'JSON' },
    // Clients use mTLS to any peer known to run a proxy, even without a DestinationRule saying so.
    enableAutoMtls: true,
    // Time to open an upstream TCP connection, as Istio's default.
    connectTimeout: '10s',
    // HTTP/1 and TCP between proxies travel in HBONE tunnels (HTTP/2 CONNECT over mTLS) to one
    // port per workload, Istio ambient's port (docs/transport.md).
    hbone: { enabled: true, port: 15008 },
    // Callers' requests: header names with `_` refused (Envoy's REJECT_REQUEST; Istio allows them),
    // methods only from IANA's registry, at most 32 bytes, and no proxy trusted in front of the
    // first sidecar (Istio's numTrustedProxies default).
    http: {
      headersWithUnderscoresAction: 'REJECT_REQUEST',
      extensionMethods: [],
      maxMethodLength: DEFAULT_MAX_METHOD_LENGTH,
      numTrustedProxies: 0,
    },
    // Request paths are normalized (RFC 3986 dot segments, escaped unreserved characters, `\` as
    // `/`) before routing and policies, as Istio's default; `//` and `%2F` are left as sent.
    pathNormalization: { normalization: 'BASE' },
  };
}

/** The MeshConfig in effect: `spec`'s fields where set, the defaults elsewhere. */
export function resolveMeshConfig(spec: MeshConfigSpec | undefined): MeshConfig {
  const d = meshConfigDefaults();
  if (spec === undefined) return d;
  const normalization = spec.pathNormalization?.normalization;
  return {
    trustDomain: spec.trustDomain ?? d.trustDomain,
    rootNamespace: spec.rootNamespace ?? d.rootNamespace,
    mtls: { mode: spec.mtls?.mode ?? d.mtls.mode },
    outboundTrafficPolicy: { mode: spec.outboundTrafficPolicy?.mode ?? d.outboundTrafficPolicy.mode },
    protocolDetection: {
      enabled: spec.protocolDetection?.enabled ?? d.protocolDetection.enabled,
      timeout: spec.protocolDetection?.timeout ?? d.protocolDetection.timeout,
    },
    tracing: { sampling: spec.tracing?.sampling ?? d.tracing.sampling },
    accessLogging: {
      enabled: spec.accessLogging?.enabled ?? d.accessLogging.enabled,
      encoding: spec.accessLogging?.encoding ?? d.accessLogging.encoding,
    },
    enableAutoMtls: spec.enableAutoMtls ?? d.enableAutoMtls,
    connectTimeout: spec.connectTimeout ?? d.connectTimeout,
    hbone: { enabled: spec.hbone?.enabled ?? d.hbone.enabled, port: spec.hbone?.port ?? d.hbone.port },
    http: {
      headersWithUnderscoresAction:
        spec.http?.headersWithUnderscoresAction ?? d.http.headersWithUnderscoresAction,
      extensionMethods: [...(spec.http?.extensionMethods ?? d.http.extensionMethods)],
      maxMethodLength: spec.http?.maxMethodLength ?? d.http.maxMethodLength,
      numTrustedProxies: spec.http?.numTrustedProxies ?? d.http.numTrustedProxies,
    },
    pathNormalization: {
      // Istio's DEFAULT means BASE there, and the default here.
      normalization:
        normalization === undefined || normalization === 'DEFAULT'
          ? d.pathNormalization.normalization
          : normalization,
    },
  };
}

export const meshConfig: KindInfo<MeshConfigSpec> = {
  kind: 'MeshConfig',
  group: 'mesh.alder.dev',
  versions: ['v1alpha1'],
  plural: 'meshconfigs',
  shortNames: ['mc'],
  namespaced: false,
  spec: meshConfigSpec,
  specRequired: false,
  fixedName: MESH_CONFIG_NAME,
  printerColumns: [
    { header: 'Trust-Domain', value: (r) => resolveMeshConfig(r.spec).trustDomain },
    { header: 'mTLS', value: (r) => resolveMeshConfig(r.spec).mtls.mode },
    { header: 'Outbound', value: (r) => resolveMeshConfig(r.spec).outboundTrafficPolicy.mode },
  ],
};
