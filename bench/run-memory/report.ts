// Turns the measured meshes into the printed table (totals idle and under load, the cost per
// workload), the cost of each additional workload between the smallest and the largest mesh, and
// the targets with whether they are met.

import type { Memory } from './memory.ts';
import type { Mode } from './mesh.ts';

/** One group of processes in one mesh: the proxies, or (node mode) the alder run supervisors. */
export interface GroupResult {
  processes: number;
  idle: Memory;
  /** Each member idle, in the order started (the load client's last). */
  idleEach: Memory[];
  /** The peak of the group's total over the samples taken during the load (each figure's own peak). */
  loadPeak: Memory;
  /** The total at the end of the load. */
  loadEnd: Memory;
}

export interface MeshResult {
  mode: Mode;
  /** svc-1 … svc-N; the mesh also runs the load client, so it holds services + 1 workloads. */
  services: number;
  workloads: number;
  proxies: GroupResult;
  supervisors: GroupResult | undefined;
  load: Record<string, unknown>;
  startMs: number;
  /** How long stopping every process took, and which needed SIGKILL. */
  stop: { ms: number; killed: string[] };
  quiet: { waitedMs: number; isQuiet: boolean; cpuShare: number };
}

export interface Failure {
  mode: Mode;
  services: number;
  error: string;
}

const mib = (kib: number) => kib / 1024;
const f1 = (kib: number) => mib(kib).toFixed(1);

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function row(mode: string, r: MeshResult, g: GroupResult, what: string): string[] {
  const per = (kib: number) => f1(kib / r.workloads);
  return [
    mode,
    String(r.services),
    `${g.processes} ${what}`,
    f1(g.idle.rssKiB),
    f1(g.idle.pssKiB),
    f1(g.idle.rssAnonKiB),
    f1(g.loadPeak.rssKiB),
    f1(g.loadPeak.pssKiB),
    per(g.idle.rssKiB),
    per(g.idle.pssKiB),
    per(g.loadPeak.rssKiB),
    what === 'supervisors' ? '' : `${String(r.load.ok)}/${String(r.load.sent)}`,
  ];
}

export function resultsTable(results: readonly MeshResult[]): string {
  const rows = [
    [
      'mode',
      'services',
      'processes',
      'RSS idle',
      'PSS idle',
      'RssAnon idle',
      'RSS load',
      'PSS load',
      'RSS/wl idle',
      'PSS/wl idle',
      'RSS/wl load',
      'load 200s',
    ],
  ];
  for (const r of results) {
    rows.push(row(r.mode, r, r.proxies, r.mode === 'node' ? 'node proxy' : 'sidecars'));
    if (r.supervisors !== undefined) rows.push(row('node', r, r.supervisors, 'supervisors'));
  }
  return `${table(rows)}
MiB. services: svc-1 … svc-N; each mesh also runs the load client, so it holds N + 1 workloads, and
"/wl" divides by N + 1. load: the peak of the total over samples every 500 ms while the load ran;
load 200s: the requests that got 200 of those sent.
sidecars: every alder run (each is its workload's proxy); node proxy: alder node alone;
supervisors: node mode's alder run processes, which only start and watch their app.
`;
}

/** (X(largest) − X(smallest)) / (largest − smallest services), in MiB, for one group of one mode. */
export interface Marginal {
  mode: Mode;
  group: 'proxies' | 'supervisors';
  from: number;
  to: number;
  idle: { rss: number; pss: number; rssAnon: number };
  load: { rss: number; pss: number };
}

export function marginals(results: readonly MeshResult[]): Marginal[] {
  const out: Marginal[] = [];
  for (const mode of ['node', 'sidecar'] as const) {
    const mine = results.filter((r) => r.mode === mode).sort((a, b) => a.services - b.services);
    const [lo, hi] = [mine[0], mine.at(-1)];
    if (lo === undefined || hi === undefined || lo === hi) continue;
    for (const group of ['proxies', 'supervisors'] as const) {
      const [a, b] = [lo[group], hi[group]];
      if (a === undefined || b === undefined) continue;
      const d = (x: number, y: number) => mib(y - x) / (hi.services - lo.services);
      out.push({
        mode,
        group,
        from: lo.services,
        to: hi.services,
        idle: {
          rss: d(a.idle.rssKiB, b.idle.rssKiB),
          pss: d(a.idle.pssKiB, b.idle.pssKiB),
          rssAnon: d(a.idle.rssAnonKiB, b.idle.rssAnonKiB),
        },
        load: { rss: d(a.loadPeak.rssKiB, b.loadPeak.rssKiB), pss: d(a.loadPeak.pssKiB, b.loadPeak.pssKiB) },
      });
    }
  }
  return out;
}

export function marginalText(ms: readonly Marginal[]): string {
  if (ms.length === 0) return 'Each additional workload: needs two mesh sizes of a mode.\n';
  const label = (m: Marginal) =>
    m.group === 'supervisors'
      ? 'node mode, alder run supervisors'
      : m.mode === 'node'
        ? 'node proxy'
        : 'sidecars';
  const lines = ms.map(
    (m) =>
      `  ${label(m).padEnd(32)} RSS ${m.idle.rss.toFixed(2)} idle, ${m.load.rss.toFixed(2)} under load; ` +
      `PSS ${m.idle.pss.toFixed(2)} idle, ${m.load.pss.toFixed(2)} under load; RssAnon ${m.idle.rssAnon.toFixed(2)} idle`,
  );
  const [m] = ms;
  return `Each additional workload, MiB: (X(${m?.to}) − X(${m?.from})) / ${(m?.to ?? 0) - (m?.from ?? 0)}\n${lines.join('\n')}\n`;
}

export interface Target {
  name: string;
  /** undefined: a figure to compare, not a pass or fail. */
  isMet: boolean | undefined;
  detail: string;
}

export function targets(results: readonly MeshResult[], ms: readonly Marginal[]): Target[] {
  const out: Target[] = [];
  const node = ms.find((m) => m.mode === 'node' && m.group === 'proxies');
  if (node !== undefined) {
    out.push({
      name: 'node mode adds under 5 MiB per additional workload (node proxy RSS)',
      isMet: node.idle.rss < 5 && node.load.rss < 5,
      detail: `${node.idle.rss.toFixed(2)} MiB idle, ${node.load.rss.toFixed(2)} MiB under load`,
    });
  }
  const big = results.find((r) => r.mode === 'node' && r.services === 50);
  if (big !== undefined) {
    const peak = Math.max(big.proxies.idle.rssKiB, big.proxies.loadPeak.rssKiB);
    out.push({
      name: `node mode serves 50 workloads (${big.workloads} with the load client) in under 300 MiB (node proxy RSS)`,
      isMet: mib(peak) < 300,
      detail: `${f1(big.proxies.idle.rssKiB)} MiB idle, ${f1(big.proxies.loadPeak.rssKiB)} MiB at the load's peak`,
    });
  }
  for (const r of results.filter((x) => x.mode === 'sidecar')) {
    const each = r.proxies.idleEach.map((m) => mib(m.rssKiB));
    out.push({
      name: `sidecar idle RSS per proxy, ${r.services} services (the old figure: ~80 MiB)`,
      isMet: undefined,
      detail:
        `mean ${(each.reduce((a, b) => a + b, 0) / each.length).toFixed(1)} MiB ` +
        `(${Math.min(...each).toFixed(1)}–${Math.max(...each).toFixed(1)}), ` +
        `PSS ${f1(r.proxies.idle.pssKiB / r.proxies.processes)} MiB`,
    });
  }
  return out;
}

export function targetsText(ts: readonly Target[]): string {
  const mark = (t: Target) => (t.isMet === undefined ? '[info]' : t.isMet ? '[met] ' : '[MISSED]');
  return `Targets\n${ts.map((t) => `  ${mark(t)} ${t.name}: ${t.detail}`).join('\n')}\n`;
}
