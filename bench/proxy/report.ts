// Turns the pairs' measurements into the printed markdown tables and the JSON record: absolute figures
// per pair, latency added over `direct`, and the ratios Alder/nginx, Alder/HAProxy and nginx/HAProxy.

import type { PairMeasurements, PerProxy } from './measure.ts';
import type { PairName } from './options.ts';

export interface PairResult {
  name: PairName;
  title: string;
  status: 'ran' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  note: string | undefined;
  measurements: PairMeasurements | undefined;
}

const PERCENTILES = [
  ['p50', 'p50Ms'],
  ['p90', 'p90Ms'],
  ['p99', 'p99Ms'],
  ['p99.9', 'p999Ms'],
] as const;

const MIB = 1024 * 1024;

/** Three significant digits, or an em dash for a missing figure. */
function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  const digits = Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(Math.abs(n)))));
  return n.toFixed(digits);
}

const split = (p: PerProxy | undefined, scale = 1) =>
  p === undefined ? '—' : `${fmt(p.total / scale)} (${fmt(p.a / scale)} + ${fmt(p.b / scale)})`;

/** Latency this pair adds over `direct` at one rate and percentile, in ms. */
function addedMs(results: PairResult[], m: PairMeasurements, rateIndex: number, key: string) {
  const direct = results.find((r) => r.name === 'direct')?.measurements?.rates[rateIndex]?.load;
  const own = m.rates[rateIndex]?.load;
  if (direct === undefined || own === undefined || own.completed === 0) return undefined;
  const k = key as (typeof PERCENTILES)[number][1];
  return own[k] - direct[k];
}

interface Metric {
  label: string;
  /** The figure for one pair; undefined when it has none. */
  of: (m: PairMeasurements) => number | undefined;
}

function metrics(results: PairResult[], rates: number[]): Metric[] {
  const list: Metric[] = [];
  rates.forEach((rate, i) => {
    for (const [label, key] of PERCENTILES) {
      list.push({ label: `added ${label} @ ${rate} req/s (ms)`, of: (m) => addedMs(results, m, i, key) });
    }
  });
  list.push({ label: 'max throughput (req/s)', of: (m) => m.max.achievedRps });
  rates.forEach((rate, i) => {
    list.push({
      label: `CPU s / 1k req @ ${rate} req/s, A+B`,
      of: (m) => m.rates[i]?.cpuSecondsPer1kRequests?.total,
    });
  });
  list.push({ label: 'RSS idle, A+B (MiB)', of: (m) => (m.rssIdleBytes?.total ?? Number.NaN) / MIB });
  list.push({ label: 'RSS under load, A+B (MiB)', of: (m) => (m.rssLoadBytes?.total ?? Number.NaN) / MIB });
  return list;
}

/** The ratios table's rows as data, for the JSON record too. */
export function ratios(results: PairResult[], rates: number[]) {
  const of = (name: PairName) => results.find((r) => r.name === name && r.status === 'ran')?.measurements;
  const ratio = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined || !(y > 0) || !Number.isFinite(x) ? undefined : x / y;
  const [alder, nginx, haproxy, routes] = [of('alder'), of('nginx'), of('haproxy'), of('alder-routes')];
  const authz = of('alder-authz');
  const unTunnelled = of('alder-direct');
  return metrics(results, rates).map((metric) => {
    const get = (m: PairMeasurements | undefined) => (m === undefined ? undefined : metric.of(m));
    return {
      metric: metric.label,
      alderOverNginx: ratio(get(alder), get(nginx)),
      alderOverHaproxy: ratio(get(alder), get(haproxy)),
      nginxOverHaproxy: ratio(get(nginx), get(haproxy)),
      routeTableOverAlder: ratio(get(routes), get(alder)),
      authorizationOverAlder: ratio(get(authz), get(alder)),
      hboneOverDirectMtls: ratio(get(alder), get(unTunnelled)),
    };
  });
}

export function markdownReport(results: PairResult[], rates: number[]): string {
  const ran = results.filter((r) => r.status === 'ran' && r.measurements !== undefined);
  const out: string[] = [];
  out.push('### Latency at fixed rates (ms; intended send time → end of response; "+" = added over direct)');
  out.push('');
  out.push(
    '| pair | rate | achieved req/s | p50 | p90 | p99 | p99.9 | max | +p50 | +p90 | +p99 | +p99.9 | errors |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of ran) {
    const m = r.measurements!;
    m.rates.forEach((phase, i) => {
      const l = phase.load;
      const added = PERCENTILES.map(([, key]) =>
        r.name === 'direct' ? '—' : fmt(addedMs(results, m, i, key)),
      );
      const abs = [l.p50Ms, l.p90Ms, l.p99Ms, l.p999Ms, l.maxMs].map((v) => (l.completed > 0 ? fmt(v) : '—'));
      out.push(
        `| ${r.title} | ${phase.targetRps} | ${Math.round(l.achievedRps)} | ${abs.join(' | ')} | ${added.join(' | ')} | ${l.errors} |`,
      );
    });
  }
  out.push('');
  out.push('### Throughput, CPU and memory (total (A + B); CPU = user + system seconds per 1,000 requests)');
  out.push('');
  const cpuHeads = rates.map((rate) => `CPU s/1k req @ ${rate}`).join(' | ');
  out.push(`| pair | max req/s | max errors | ${cpuHeads} | RSS idle MiB | RSS load MiB |`);
  out.push(`| --- | ---: | ---: | ${rates.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const r of ran) {
    const m = r.measurements!;
    const cpu = m.rates.map((phase) => split(phase.cpuSecondsPer1kRequests));
    out.push(
      `| ${r.title} | ${Math.round(m.max.achievedRps)} | ${m.max.errors} | ${cpu.join(' | ')} | ${split(m.rssIdleBytes, MIB)} | ${split(m.rssLoadBytes, MIB)} |`,
    );
  }
  out.push('');
  out.push('### Ratios (lower is better except max throughput)');
  out.push('');
  out.push(
    '| metric | Alder / nginx | Alder / HAProxy | nginx / HAProxy | Alder + route table / Alder | Alder + 100 policies / Alder | Alder (HBONE) / Alder, direct mTLS |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of ratios(results, rates)) {
    const cells = [
      row.alderOverNginx,
      row.alderOverHaproxy,
      row.nginxOverHaproxy,
      row.routeTableOverAlder,
      row.authorizationOverAlder,
      row.hboneOverDirectMtls,
    ].map(fmt);
    out.push(`| ${row.metric} | ${cells.join(' | ')} |`);
  }
  const notes = results
    .filter((r) => r.status !== 'ran')
    .map((r) => `- ${r.title}: ${r.status}: ${r.note ?? ''}`);
  for (const r of ran) {
    const phases = [...r.measurements!.rates.map((p) => p.load), r.measurements!.max];
    for (const l of phases.filter((p) => p.errors > 0)) {
      const at = l.mode === 'max' ? 'max throughput' : `${l.targetRps} req/s`;
      notes.push(
        `- ${r.title}: ${l.errors} errors at ${at} (${l.completed} completed): its figures there are not comparable`,
      );
    }
  }
  if (notes.length > 0) out.push('', ...notes);
  return `${out.join('\n')}\n`;
}
