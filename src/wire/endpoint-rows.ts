// The `endpoints` resource on the stream: a cluster's endpoints with the fields they all share
// written once and the rest as rows of values. A service's endpoints share their identity, labels,
// locality, weight and ports, so each costs about its address and workload name on the wire (some
// 20 bytes, against 185 as whole objects in bench:push). The proxy expands them back in order.

import type { Endpoint } from './clusters.ts';

/** Every field of an Endpoint, in the compiler's order (expanded endpoints keep it). */
const ENDPOINT_FIELDS = [
  'address',
  'port',
  'spiffeId',
  'labels',
  'workload',
  'locality',
  'weight',
  'tunnelPort',
] as const satisfies readonly (keyof Endpoint)[];
export type EndpointField = (typeof ENDPOINT_FIELDS)[number];

/** Values a field takes when neither `shared` nor `fields` has it: the compiler's defaults. */
const DEFAULTS: Partial<Record<EndpointField, unknown>> = { locality: '', weight: 1 };

export interface EndpointRows {
  /** Fields with the same value in every endpoint, but for the defaults (empty locality, weight 1). */
  shared: Partial<Endpoint>;
  /** The other fields, in the order of each row's values. */
  fields: EndpointField[];
  /** One row per endpoint, in order; null where an endpoint lacks an optional field. */
  rows: unknown[][];
}

const isField = (name: unknown): name is EndpointField =>
  typeof name === 'string' && (ENDPOINT_FIELDS as readonly string[]).includes(name);

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b);
}

export function toEndpointRows(endpoints: readonly Endpoint[]): EndpointRows {
  const shared: Partial<Record<EndpointField, unknown>> = {};
  const fields: EndpointField[] = [];
  const first = endpoints[0];
  if (first !== undefined) {
    for (const f of ENDPOINT_FIELDS) {
      const value = first[f];
      if (value !== undefined && endpoints.every((e) => sameValue(e[f], value))) {
        if (value !== DEFAULTS[f]) shared[f] = value;
      } else if (endpoints.some((e) => e[f] !== undefined)) fields.push(f);
    }
  }
  const rows = endpoints.map((e) => fields.map((f) => e[f] ?? null));
  return { shared: shared as Partial<Endpoint>, fields, rows };
}

/**
 * The endpoints the rows make. Throws, naming the cluster, when the resource is malformed; the
 * values themselves are checked with the rest of the snapshot by decodeSnapshot.
 */
export function fromEndpointRows(body: EndpointRows, cluster: string): Endpoint[] {
  const bad = (what: string) => new Error(`endpoints of ${cluster}: ${what}`);
  if (typeof body !== 'object' || body === null) throw bad('not an object');
  const { shared, fields, rows } = body;
  if (typeof shared !== 'object' || shared === null || !Array.isArray(fields) || !Array.isArray(rows)) {
    throw bad('want shared, fields and rows');
  }
  for (const f of Object.keys(shared)) if (!isField(f)) throw bad(`unknown field ${JSON.stringify(f)}`);
  for (const f of fields as unknown[]) if (!isField(f)) throw bad(`unknown field ${JSON.stringify(f)}`);
  const column = new Map(fields.map((f, i) => [f, i]));
  if (column.size !== fields.length) throw bad('a field is named twice');
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length !== fields.length) {
      throw bad(`row ${i} does not have the ${fields.length} values fields names`);
    }
    const e: Partial<Record<EndpointField, unknown>> = {};
    for (const f of ENDPOINT_FIELDS) {
      const k = column.get(f);
      const value = k === undefined ? (shared[f] ?? DEFAULTS[f]) : row[k];
      if (value !== undefined && value !== null) e[f] = value;
    }
    return e as Endpoint;
  });
}
