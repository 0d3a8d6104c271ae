// `alder proxy-config routes|clusters|endpoints`: what a running proxy holds, read from its admin
// port (/routes, /clusters, /endpoints) and printed as istioctl proxy-config prints it, or as JSON.

import type { ClusterView, EndpointView, RouteTableView } from '../../proxy/index.ts';
import { ADMIN_HELP, adminGet, adminUrl } from '../admin-client.ts';
import type { Command } from '../command.ts';
import type { CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

const FORMATS = ['json', 'wide'] as const;
type Format = (typeof FORMATS)[number] | undefined;

const KINDS = {
  routes: ['routes', 'route', 'r'],
  clusters: ['clusters', 'cluster', 'c'],
  endpoints: ['endpoints', 'endpoint', 'ep'],
} as const;
type Kind = keyof typeof KINDS;

/** Which filters each kind takes (istioctl's). */
const FILTERS: Record<Kind, readonly string[]> = {
  routes: ['name'],
  clusters: ['fqdn', 'port', 'subset', 'direction'],
  endpoints: ['cluster', 'address', 'port', 'status', 'observed'],
};

type Filters = Partial<
  Record<
    'name' | 'fqdn' | 'port' | 'subset' | 'direction' | 'cluster' | 'address' | 'status' | 'observed',
    string
  >
>;

const OBSERVED_STATES = ['HEALTHY', 'FAILING', 'EJECTED'];

export const proxyConfig: Command = {
  name: 'proxy-config',
  help: `Show what a running proxy holds, from its admin port: its HTTP route tables, its clusters with
their DestinationRule policy and live state, or its endpoints with their health: as the registry
declares it, and as this proxy observed it (failing, ejected by outlier detection, the last failure).

Usage:
  alder proxy-config routes    [--name TABLE] [--admin HOST:PORT] [-o json|wide]
  alder proxy-config clusters  [--fqdn FQDN] [--port N] [--subset NAME] [--direction outbound] [--admin HOST:PORT] [-o json|wide]
  alder proxy-config endpoints [--cluster NAME] [--address IP] [--port N] [--status HEALTHY|UNHEALTHY]
                               [--observed HEALTHY|FAILING|EJECTED] [--admin HOST:PORT] [-o json|wide]

Columns:
  routes     NAME (route table)  DOMAINS  MATCH (one row per match block)  VIRTUAL SERVICE
             wide: ROUTE and DESTINATION too
  clusters   SERVICE FQDN  PORT  SUBSET  DIRECTION  TYPE  DESTINATION RULE
             wide: POLICY LEVELS, LB, TLS, ENDPOINTS (healthy/total), IN FLIGHT too
  endpoints  ENDPOINT  STATUS (declared by the registry)  OUTLIER CHECK  CLUSTER  OBSERVED (by this proxy)
             wide: WORKLOAD, LOCALITY, WEIGHT, EJECTED UNTIL too, before OBSERVED

Options:
${ADMIN_HELP}
  -o, --output FORMAT  json (the admin port's view, filtered) or wide (more columns)
  --name TABLE         routes: one route table (e.g. outbound)
  --fqdn FQDN          clusters: one service (reviews, reviews.shop or its full name)
  --port N             clusters: service port; endpoints: endpoint port
  --subset NAME        clusters: one subset
  --direction DIR      clusters: outbound or inbound
  --cluster NAME       endpoints: one cluster (outbound|9080|v1|reviews.shop.svc.cluster.local)
  --address IP         endpoints: one address
  --status STATUS      endpoints: HEALTHY or UNHEALTHY, as the registry declares it
  --observed STATE     endpoints: HEALTHY, FAILING (its last tries failed) or EJECTED (by outlier
                       detection), as this proxy observed it
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'proxy-config',
      argv,
      {
        admin: { type: 'string' },
        output: { type: 'string', short: 'o' },
        name: { type: 'string' },
        fqdn: { type: 'string' },
        port: { type: 'string' },
        subset: { type: 'string' },
        direction: { type: 'string' },
        cluster: { type: 'string' },
        address: { type: 'string' },
        status: { type: 'string' },
        observed: { type: 'string' },
      },
      1,
    );
    const kind = kindOf(positionals[0]);
    const format = outputFormat(values.output, FORMATS, 'proxy-config');
    const { admin, output: _, ...filters } = values;
    for (const [flag, value] of Object.entries(filters)) {
      if (value !== undefined && !FILTERS[kind].includes(flag))
        throw usageError(
          `--${flag} does not filter ${kind} (it takes ${FILTERS[kind].map((f) => `--${f}`).join(', ')})`,
          'proxy-config',
        );
    }
    if (filters.port !== undefined && !/^\d{1,5}$/.test(filters.port))
      throw usageError(`--port must be a port number, got ${JSON.stringify(filters.port)}`, 'proxy-config');
    if (filters.observed !== undefined && !OBSERVED_STATES.includes(filters.observed.toUpperCase()))
      throw usageError(
        `--observed must be ${OBSERVED_STATES.join(', ')}, got ${JSON.stringify(filters.observed)}`,
        'proxy-config',
      );
    const base = adminUrl(admin, 'proxy-config');
    const view = await adminGet<Record<string, unknown>>(base, `/${kind}`);
    if (kind === 'routes') printRoutes(view as unknown as RoutesDoc, filters, format, io);
    else if (kind === 'clusters') printClusters(view as unknown as ClustersDoc, filters, format, io);
    else printEndpoints(view as unknown as EndpointsDoc, filters, format, io);
    return 0;
  },
};

interface RoutesDoc {
  version: string;
  routeTables: RouteTableView[];
}
interface ClustersDoc {
  version: string;
  clusters: ClusterView[];
}
interface EndpointsDoc {
  version: string;
  endpoints: EndpointView[];
}

function kindOf(arg: string | undefined): Kind {
  for (const [kind, names] of Object.entries(KINDS)) {
    if ((names as readonly string[]).includes(arg ?? '')) return kind as Kind;
  }
  throw usageError(
    arg === undefined
      ? 'proxy-config needs what to show: routes, clusters or endpoints'
      : `unknown proxy-config type ${JSON.stringify(arg)}: want routes, clusters or endpoints`,
    'proxy-config',
  );
}

function printRoutes(doc: RoutesDoc, f: Filters, format: Format, io: CliIo): void {
  const tables = doc.routeTables.filter((t) => f.name === undefined || t.name === f.name);
  if (format === 'json') {
    json({ version: doc.version, routeTables: tables }, io);
    return;
  }
  const rows: string[][] = [];
  for (const t of tables) {
    for (const vh of t.virtualHosts) {
      if (vh.traffic !== 'http') continue;
      for (const r of vh.routes) {
        const blocks = r.matches.length === 0 ? [undefined] : r.matches;
        for (const m of blocks) {
          const row = [t.name, shortestDomain(vh.domains), m?.summary ?? '/*', r.virtualService ?? '-'];
          if (format === 'wide') row.push(routeLabel(r, m?.index), destinationText(r));
          rows.push(row);
        }
      }
    }
  }
  const headers = ['NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'];
  if (format === 'wide') headers.push('ROUTE', 'DESTINATION');
  table(headers, rows, 'routes', io);
}

function printClusters(doc: ClustersDoc, f: Filters, format: Format, io: CliIo): void {
  const clusters = doc.clusters
    .filter(
      (c) =>
        (f.fqdn === undefined || c.service === f.fqdn || c.service.startsWith(`${f.fqdn}.`)) &&
        (f.port === undefined || c.port === Number(f.port)) &&
        (f.subset === undefined || c.subset === f.subset) &&
        (f.direction === undefined || c.direction === f.direction),
    )
    .sort(
      (a, b) =>
        a.service.localeCompare(b.service) ||
        (a.subset ?? '').localeCompare(b.subset ?? '') ||
        a.port - b.port ||
        a.direction.localeCompare(b.direction),
    );
  if (format === 'json') {
    json({ version: doc.version, clusters }, io);
    return;
  }
  const rows = clusters.map((c) => {
    const row = [
      c.service,
      String(c.port),
      c.subset ?? '-',
      c.direction,
      c.type,
      c.policyOrigin?.destinationRule ?? '-',
    ];
    if (format === 'wide') {
      row.push(
        c.policyOrigin?.levels.join(',') ?? '-',
        c.lb.kind,
        c.tlsMode,
        `${c.endpoints.healthy}/${c.endpoints.total}`,
        String(c.circuitBreaker.requests),
      );
    }
    return row;
  });
  const headers = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];
  if (format === 'wide') headers.push('POLICY LEVELS', 'LB', 'TLS', 'ENDPOINTS', 'IN FLIGHT');
  table(headers, rows, 'clusters', io);
}

function printEndpoints(doc: EndpointsDoc, f: Filters, format: Format, io: CliIo): void {
  const endpoints = doc.endpoints
    .filter(
      (e) =>
        (f.cluster === undefined || e.cluster === f.cluster) &&
        (f.address === undefined || e.endpoint.startsWith(`${f.address}:`)) &&
        (f.port === undefined || e.endpoint.endsWith(`:${f.port}`)) &&
        (f.status === undefined || e.status === f.status.toUpperCase()) &&
        (f.observed === undefined || e.observed.state === f.observed.toUpperCase()),
    )
    .sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.cluster.localeCompare(b.cluster));
  if (format === 'json') {
    json({ version: doc.version, endpoints }, io);
    return;
  }
  const rows = endpoints.map((e) => {
    const row = [e.endpoint, e.status, e.outlierCheck, e.cluster];
    if (format === 'wide')
      row.push(e.workload, e.locality || '-', String(e.weight), e.ejection?.until ?? '-');
    row.push(e.observed.summary);
    return row;
  });
  const headers = ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'];
  if (format === 'wide') headers.push('WORKLOAD', 'LOCALITY', 'WEIGHT', 'EJECTED UNTIL');
  headers.push('OBSERVED');
  table(headers, rows, 'endpoints', io);
}

function table(headers: string[], rows: string[][], what: string, io: CliIo): void {
  if (rows.length === 0) {
    io.err(`no ${what} match\n`);
    return;
  }
  io.out(formatTable(headers, rows));
}

function json(value: unknown, io: CliIo): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** istioctl's DOMAINS: the shortest name a client may use. */
function shortestDomain(domains: string[]): string {
  return domains.reduce((a, b) => (b.length < a.length ? b : a), domains[0] ?? '');
}

function routeLabel(
  r: RouteTableView['virtualHosts'][number]['routes'][number],
  block: number | undefined,
): string {
  const named = r.name === r.path.split(' → ').at(-1) || r.path === 'default' ? '' : ` "${r.name}"`;
  return `${r.path}${named}${block === undefined || r.matches.length === 1 ? '' : ` match[${block}]`}`;
}

function destinationText(r: RouteTableView['virtualHosts'][number]['routes'][number]): string {
  const a = r.action;
  if (a.kind === 'redirect') return `redirect ${a.redirect.status}`;
  if (a.kind === 'direct') return `direct ${a.status}`;
  const many = a.destinations.length > 1;
  return a.destinations
    .map((d) => {
      const name = d.subset === undefined ? d.cluster : `subset ${d.subset}`;
      return many ? `${name} (${d.weight}/${a.totalWeight})` : name;
    })
    .join(', ');
}
