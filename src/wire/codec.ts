// Encodes snapshots for the stream and decodes them at the proxy's edge: a snapshot that does not
// check out is refused whole, with every problem named by its path, and the proxy keeps its last
// good one. Checks every field's type, range and enum, then that every name points somewhere.

import { AlderError, ErrorCode, schema as s } from '../config/core.ts';
import type { Snapshot } from './snapshot.ts';
import { snapshotSchema } from './snapshot-schema.ts';

type Checker = InstanceType<typeof s.Checker>;

// ── references ──────────────────────────────────────────────────────────────────────────────────

/** Every name a listener, route, mirror or TCP route refers to must exist in the snapshot, once. */
function checkReferences(snap: Snapshot, c: Checker): void {
  const clusters = uniqueNames(snap.clusters, 'clusters', c);
  const tables = uniqueNames(snap.routeTables, 'routeTables', c);
  const missing = (kind: string, value: string) =>
    `names ${kind} ${JSON.stringify(value)}, which the snapshot lacks`;
  snap.listeners.forEach((l, i) => {
    if ('routeTable' in l && l.routeTable !== undefined && !tables.has(l.routeTable)) {
      c.error(missing('route table', l.routeTable), 'listeners', i, 'routeTable');
    }
  });
  const check = (name: string, ...at: (string | number)[]) => {
    if (!clusters.has(name)) c.error(missing('cluster', name), ...at);
  };
  snap.routeTables.forEach((t, i) => {
    t.virtualHosts.forEach((vh, j) => {
      const at = ['routeTables', i, 'virtualHosts', j] as const;
      vh.routes.forEach((r, k) => {
        if (r.action.kind === 'forward') {
          r.action.destinations.forEach((d, n) => {
            check(d.cluster, ...at, 'routes', k, 'action', 'destinations', n, 'cluster');
          });
        }
        r.mirrors?.forEach((m, n) => {
          check(m.cluster, ...at, 'routes', k, 'mirrors', n, 'cluster');
        });
      });
      vh.tcpRoutes.forEach((r, k) => {
        r.destinations.forEach((d, n) => {
          check(d.cluster, ...at, 'tcpRoutes', k, 'destinations', n, 'cluster');
        });
      });
    });
  });
}

function uniqueNames(items: readonly { name: string }[], field: string, c: Checker): Set<string> {
  const seen = new Set<string>();
  items.forEach((x, i) => {
    if (seen.has(x.name)) c.error(`duplicate name ${JSON.stringify(x.name)}`, field, i, 'name');
    seen.add(x.name);
  });
  return seen;
}

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
  return checkSnapshot(value);
}

/**
 * Checks a snapshot built in this process (by the agent, from the resources it holds) as one
 * decoded from text is checked, without the copy a round trip through JSON would make: its parts
 * stay shared with the resources they came from. It is read, never changed, but for an absent tls.
 */
export function checkSnapshot(value: unknown): Snapshot {
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
  // JSON has no undefined: an absent or null tls is none.
  snapshot.tls = snapshot.tls ?? undefined;
  return snapshot;
}
