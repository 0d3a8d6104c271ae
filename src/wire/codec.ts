// Encodes snapshots for the stream and decodes them at the proxy's edge: a snapshot that does not
// check out is refused whole, with every problem named, and the proxy keeps its last good one.

import { AlderError, ErrorCode, schema as s } from '../config/index.ts';
import { type Snapshot, WIRE_VERSION } from './snapshot.ts';

const protocol = s.str({
  enum: [
    'HTTP',
    'HTTP2',
    'GRPC',
    'GRPC-Web',
    'HTTPS',
    'TLS',
    'TCP',
    'Mongo',
    'Redis',
    'MySQL',
    'UDP',
  ] as const,
});
const traffic = s.str({ enum: ['http', 'tcp', 'detect'] as const });
const port = s.int({ min: 0, max: 65535 });
const name = s.str({ minLength: 1 });
const labels = s.record(s.str());
const common = { name, address: s.str({ minLength: 1 }), port };

const listener = s.obj(
  {
    kind: s.str({ enum: ['inbound', 'outbound-proxy', 'outbound-port'] as const }),
    ...common,
    protocol,
    traffic,
    mtlsMode: s.str({ enum: ['STRICT', 'PERMISSIVE', 'DISABLE'] as const }),
    app: s.obj({ address: s.str({ minLength: 1 }), port }, { required: ['address', 'port'] }),
    services: s.arr(s.str()),
    routeTable: s.str(),
    cluster: s.str(),
  },
  {
    required: ['kind', 'name', 'address', 'port'],
    refine: (l, c) => {
      const need: Record<string, readonly string[]> = {
        inbound: ['protocol', 'traffic', 'mtlsMode', 'app', 'services'],
        'outbound-proxy': ['routeTable'],
        'outbound-port': ['traffic'],
      };
      for (const field of need[l.kind] ?? []) {
        if ((l as Record<string, unknown>)[field] === undefined)
          c.error(`is required on an ${l.kind} listener`, field);
      }
      if (l.kind === 'outbound-port' && l.traffic === 'detect') {
        if (l.routeTable === undefined || l.cluster === undefined) {
          c.error('an outbound-port listener that detects its protocol names both routeTable and cluster');
        }
      } else if (l.kind === 'outbound-port' && (l.routeTable === undefined) === (l.cluster === undefined)) {
        c.error('an outbound-port listener names exactly one of routeTable (HTTP) or cluster (TCP)');
      }
    },
  },
);

/** Every name a listener or route refers to must exist in the snapshot. */
function checkReferences(snap: Snapshot, c: InstanceType<typeof s.Checker>): void {
  const clusters = new Set(snap.clusters.map((x) => x.name));
  const tables = new Set(snap.routeTables.map((x) => x.name));
  snap.listeners.forEach((l, i) => {
    if ('routeTable' in l && l.routeTable !== undefined && !tables.has(l.routeTable)) {
      c.error(
        `names route table ${JSON.stringify(l.routeTable)}, which the snapshot lacks`,
        'listeners',
        i,
        'routeTable',
      );
    }
    if ('cluster' in l && l.cluster !== undefined && !clusters.has(l.cluster)) {
      c.error(
        `names cluster ${JSON.stringify(l.cluster)}, which the snapshot lacks`,
        'listeners',
        i,
        'cluster',
      );
    }
  });
  for (const [i, t] of snap.routeTables.entries()) {
    for (const [j, vh] of t.virtualHosts.entries()) {
      for (const [k, r] of vh.routes.entries()) {
        if (clusters.has(r.cluster)) continue;
        const at = ['routeTables', i, 'virtualHosts', j, 'routes', k, 'cluster'] as const;
        c.error(`names cluster ${JSON.stringify(r.cluster)}, which the snapshot lacks`, ...at);
      }
    }
  }
}

const snapshotSchema = s.obj(
  {
    wireVersion: s.int({ min: WIRE_VERSION, max: WIRE_VERSION }),
    version: name,
    proxy: s.obj(
      { namespace: name, workload: name, serviceAccount: name, spiffeId: name, address: name, labels },
      { required: ['namespace', 'workload', 'serviceAccount', 'spiffeId', 'address', 'labels'] },
    ),
    mesh: s.obj(
      {
        trustDomain: name,
        outboundTrafficPolicy: s.str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] as const }),
        protocolDetection: s.obj(
          { enabled: s.bool(), timeoutMs: s.int({ min: 1 }) },
          { required: ['enabled', 'timeoutMs'] },
        ),
        connectTimeoutMs: s.int({ min: 1 }),
        accessLog: s.obj(
          { enabled: s.bool(), encoding: s.str({ enum: ['JSON', 'TEXT'] as const }) },
          { required: ['enabled', 'encoding'] },
        ),
      },
      {
        required: [
          'trustDomain',
          'outboundTrafficPolicy',
          'protocolDetection',
          'connectTimeoutMs',
          'accessLog',
        ],
      },
    ),
    listeners: s.arr(listener),
    clusters: s.arr(
      s.obj(
        {
          name,
          service: name,
          port,
          protocol,
          traffic,
          lb: s.str({ enum: ['ROUND_ROBIN'] as const }),
          connectTimeoutMs: s.int({ min: 1 }),
          tlsMode: s.str({ enum: ['ISTIO_MUTUAL', 'DISABLE'] as const }),
          endpoints: s.arr(
            s.obj(
              { address: name, port, spiffeId: s.str(), labels, workload: s.str() },
              { required: ['address', 'port', 'spiffeId', 'labels', 'workload'] },
            ),
          ),
        },
        {
          required: [
            'name',
            'service',
            'port',
            'protocol',
            'traffic',
            'lb',
            'connectTimeoutMs',
            'tlsMode',
            'endpoints',
          ],
        },
      ),
    ),
    routeTables: s.arr(
      s.obj(
        {
          name,
          virtualHosts: s.arr(
            s.obj(
              {
                name,
                domains: s.arr(s.str()),
                traffic,
                routes: s.arr(
                  s.obj(
                    {
                      name,
                      match: s.obj({ prefix: s.str() }, { required: ['prefix'] }),
                      cluster: name,
                      timeoutMs: s.int({ min: 1 }),
                    },
                    { required: ['name', 'match', 'cluster'] },
                  ),
                ),
              },
              { required: ['name', 'domains', 'traffic', 'routes'] },
            ),
          ),
        },
        { required: ['name', 'virtualHosts'] },
      ),
    ),
    tls: s.obj(
      { certFile: name, keyFile: name, caFile: name },
      { required: ['certFile', 'keyFile', 'caFile'] },
    ),
  },
  { required: ['wireVersion', 'version', 'proxy', 'mesh', 'listeners', 'clusters', 'routeTables'] },
);

export function encodeSnapshot(snapshot: Snapshot): string {
  return JSON.stringify(snapshot);
}

/** Parses and checks a snapshot; throws ALDER_SNAPSHOT_INVALID listing every problem. */
export function decodeSnapshot(text: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AlderError(ErrorCode.SnapshotInvalid, `snapshot is not JSON: ${(err as Error).message}`);
  }
  const c = new s.Checker([], { namespace: '' });
  if (snapshotSchema.check(value, c)) checkReferences(value as Snapshot, c);
  const errors = c.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `snapshot refused: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      {
        details: { errors },
      },
    );
  }
  const snapshot = value as Snapshot;
  if (snapshot.tls === null) snapshot.tls = undefined;
  return snapshot;
}
