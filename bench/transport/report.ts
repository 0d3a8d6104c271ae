// Turns the rounds into figures: per transport, the median over rounds of every metric, the ratios to
// transport (a), and the markdown tables that run.ts prints and docs/transport.md quotes.

import { type LoadResult, TRANSPORT_TITLES, type TransportName } from './protocol.ts';

/** One phase as measured: A's view (latency, A's CPU) and B's CPU seconds over the same phase. */
export interface Measured {
  load: LoadResult;
  cpuBS: number;
  /**
   * Machine CPU during the phase charged to none of A, B and the harness, in cores on average: other
   * processes, kernel workers, and soft interrupts that ran while a CPU was idle (with tick-based
   * accounting that last part, some of it the hop's own network processing, is nobody's).
   */
  unchargedCores: number;
}

export interface Round {
  transport: TransportName;
  repeat: number;
  rates: Array<{ rps: number } & Measured>;
  max: Measured | undefined;
  /** Undefined for h1-pipelined: its connections are (a)'s. */
  handshake: Measured | undefined;
  failure: string | undefined;
}

/**
 * A round with more uncharged CPU than this (on average over any of its phases) is noisy: left out of
 * the medians when the transport has a quiet round. On the 2-vCPU VM this was written on, kernel
 * workers alone took up to 0.3 cores at times, and a busy phase's own network interrupts up to 0.6;
 * a compiler or test run of someone else's takes 1 to 2.
 */
export const NOISY_CORES = 0.75;
/** Before a round, the harness waits (a little) for uncharged CPU to fall below this. */
export const QUIET_CORES = 0.3;

export function isNoisy(r: Round): boolean {
  return [...r.rates, r.max, r.handshake].some((p) => p !== undefined && p.unchargedCores > NOISY_CORES);
}

interface Metric {
  key: string;
  of: (r: Round) => number | undefined;
}

const per1k = (cpuS: number, n: number) => (n > 0 ? (cpuS / n) * 1000 : undefined);

function metricsFor(rates: number[]): Metric[] {
  const list: Metric[] = [];
  rates.forEach((rps, i) => {
    const at = (r: Round) => r.rates[i];
    list.push(
      { key: `p50Ms@${rps}`, of: (r) => at(r)?.load.p50Ms },
      { key: `p90Ms@${rps}`, of: (r) => at(r)?.load.p90Ms },
      { key: `p99Ms@${rps}`, of: (r) => at(r)?.load.p99Ms },
      { key: `sendLagP50Ms@${rps}`, of: (r) => at(r)?.load.sendLagP50Ms },
      { key: `sendLagP99Ms@${rps}`, of: (r) => at(r)?.load.sendLagP99Ms },
      { key: `achievedRps@${rps}`, of: (r) => at(r)?.load.achievedRps },
      { key: `cpuA@${rps}`, of: (r) => mapped(at(r), (m) => per1k(m.load.cpuS, m.load.completed)) },
      { key: `cpuB@${rps}`, of: (r) => mapped(at(r), (m) => per1k(m.cpuBS, m.load.completed)) },
    );
  });
  list.push(
    { key: 'maxRps', of: (r) => r.max?.load.achievedRps },
    { key: 'maxP50Ms', of: (r) => r.max?.load.p50Ms },
    { key: 'maxP99Ms', of: (r) => r.max?.load.p99Ms },
    { key: 'cpuA@max', of: (r) => mapped(r.max, (m) => per1k(m.load.cpuS, m.load.completed)) },
    { key: 'cpuB@max', of: (r) => mapped(r.max, (m) => per1k(m.cpuBS, m.load.completed)) },
    { key: 'handshakesPerS', of: (r) => r.handshake?.load.achievedRps },
    { key: 'handshakeP50Ms', of: (r) => r.handshake?.load.p50Ms },
    // CPU ms per connection = CPU s per 1,000 connections.
    { key: 'handshakeCpuMsA', of: (r) => mapped(r.handshake, (m) => per1k(m.load.cpuS, m.load.completed)) },
    { key: 'handshakeCpuMsB', of: (r) => mapped(r.handshake, (m) => per1k(m.cpuBS, m.load.completed)) },
  );
  return list;
}

const mapped = <T>(x: T | undefined, f: (x: T) => number | undefined) => (x === undefined ? undefined : f(x));

function median(xs: number[]): number | undefined {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export type Summary = Record<TransportName, Record<string, number | undefined>>;

/** Median over rounds of every metric, per transport. */
export function summarize(rounds: Round[], transports: TransportName[], rates: number[]): Summary {
  const out = {} as Summary;
  for (const t of transports) {
    const all = rounds.filter((r) => r.transport === t);
    const quiet = all.filter((r) => !isNoisy(r));
    const mine = quiet.length > 0 ? quiet : all;
    const row: Record<string, number | undefined> = {
      roundsUsed: mine.length,
      roundsNoisy: all.length - quiet.length,
    };
    for (const m of metricsFor(rates)) {
      row[m.key] = median(mine.map(m.of).filter((x): x is number => x !== undefined));
    }
    const sum = (a: string, b: string) => add(row[a], row[b]);
    for (const rps of rates) row[`cpuAB@${rps}`] = sum(`cpuA@${rps}`, `cpuB@${rps}`);
    row['cpuAB@max'] = sum('cpuA@max', 'cpuB@max');
    row.handshakeCpuMsAB = sum('handshakeCpuMsA', 'handshakeCpuMsB');
    const phases = mine.flatMap((r) => [...r.rates, r.max, r.handshake]);
    const others = phases.flatMap((p) => (p === undefined ? [] : [p.unchargedCores]));
    row.unchargedCoresMedian = median(others);
    row.unchargedCoresMax = others.length === 0 ? undefined : Math.max(...others);
    row['unchargedCores@max'] = median(
      mine.flatMap((r) => (r.max === undefined ? [] : [r.max.unchargedCores])),
    );
    row.errors = mine.reduce(
      (n, r) => n + r.rates.reduce((k, p) => k + p.load.errors, 0) + (r.max?.load.errors ?? 0),
      0,
    );
    out[t] = row;
  }
  return out;
}

const add = (x: number | undefined, y: number | undefined) =>
  x === undefined || y === undefined ? undefined : x + y;

/** Keys compared with transport (a) in the ratios table, with their labels. */
function ratioKeys(rates: number[]): Array<[string, string]> {
  const top = Math.max(...rates);
  return [
    [`p50Ms@${top}`, `p50 @ ${top}`],
    [`p99Ms@${top}`, `p99 @ ${top}`],
    ['maxRps', 'max req/s'],
    [`cpuAB@${top}`, `CPU A+B @ ${top}`],
    ['cpuAB@max', 'CPU A+B @ max'],
    ['handshakesPerS', 'new conns/s'],
  ];
}

export function ratiosToA(summary: Summary, transports: TransportName[], rates: number[]) {
  const base = summary['h1-pool'];
  const out: Record<string, Record<string, number | undefined>> = {};
  for (const t of transports) {
    const row: Record<string, number | undefined> = {};
    for (const [key] of ratioKeys(rates)) {
      const x = summary[t][key];
      const y = base?.[key];
      row[key] = x === undefined || y === undefined || !(y > 0) ? undefined : x / y;
    }
    out[t] = row;
  }
  return out;
}

/** Three significant digits, or an em dash for a missing figure. */
export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  const digits = Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(Math.abs(n)))));
  return n.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdownReport(o: {
  summary: Summary;
  transports: TransportName[];
  rates: number[];
  repeats: number;
  concurrency: number;
  handshakeConcurrency: number;
}): string {
  const { summary, transports, rates } = o;
  const title = (t: TransportName) => TRANSPORT_TITLES[t];
  const k = (rps: number) => `${rps / 1000}k`;
  const latency = table(
    [
      'transport',
      ...rates.flatMap((r) => [`p50 @ ${k(r)}`, `p90 @ ${k(r)}`, `p99 @ ${k(r)}`]),
      ...rates.map((r) => `send lag p50 / p99 @ ${k(r)}`),
    ],
    transports.map((t) => [
      title(t),
      ...rates.flatMap((r) => ['p50Ms', 'p90Ms', 'p99Ms'].map((p) => fmt(summary[t][`${p}@${r}`]))),
      ...rates.map(
        (r) => `${fmt(summary[t][`sendLagP50Ms@${r}`])} / ${fmt(summary[t][`sendLagP99Ms@${r}`])}`,
      ),
    ]),
  );
  const cpu = table(
    [
      'transport',
      `max req/s (${o.concurrency} in flight)`,
      ...rates.map((r) => `CPU A / B @ ${k(r)}`),
      'CPU A / B @ max',
      'uncharged cores @ max',
    ],
    transports.map((t) => {
      const s = summary[t];
      const pair = (x: string) => `${fmt(s[`cpuA@${x}`])} / ${fmt(s[`cpuB@${x}`])}`;
      return [
        title(t),
        fmt(s.maxRps),
        ...rates.map((r) => pair(String(r))),
        pair('max'),
        fmt(s['unchargedCores@max']),
      ];
    }),
  );
  const handshakes = table(
    [
      'transport',
      `new connections/s (${o.handshakeConcurrency} at a time)`,
      'CPU ms / conn A / B',
      'p50 ms / conn',
    ],
    transports.map((t) => {
      const s = summary[t];
      if (s.handshakesPerS === undefined) return [title(t), 'as (a)', 'as (a)', 'as (a)'];
      return [
        title(t),
        fmt(s.handshakesPerS),
        `${fmt(s.handshakeCpuMsA)} / ${fmt(s.handshakeCpuMsB)}`,
        fmt(s.handshakeP50Ms),
      ];
    }),
  );
  const keys = ratioKeys(rates);
  const ratios = ratiosToA(summary, transports, rates);
  const ratioTable = table(
    ['transport / (a)', ...keys.map(([, label]) => label)],
    transports.map((t) => [title(t), ...keys.map(([key]) => fmt(ratios[t]?.[key]))]),
  );
  const noise = transports.map((t) => {
    const s = summary[t];
    return `- ${title(t)}: ${s.roundsUsed} round(s) used, ${s.roundsNoisy} noisy; uncharged CPU in them ${fmt(s.unchargedCoresMedian)} cores median, ${fmt(s.unchargedCoresMax)} max`;
  });
  const errors = transports
    .filter((t) => (summary[t].errors ?? 0) > 0)
    .map((t) => `- ${title(t)}: ${summary[t].errors} requests failed or unanswered; its figures are suspect`);
  return [
    `Medians over up to ${o.repeats} round(s). Latency in ms from each request's due time (open loop); the send`,
    "lag (how late A's event loop sent a request, Node's timers waking at 1 ms at best) is part of it.",
    '',
    latency,
    '',
    'Throughput (closed loop) and CPU seconds per 1,000 requests, A (sender) / B (receiver); last, the',
    "machine's CPU charged to neither (cores): other work, and kernel network work done on an idle CPU.",
    '',
    cpu,
    '',
    'Handshake cost: each new connection is TCP + a full mTLS 1.3 handshake (+ h2 session, + CONNECT) + one request.',
    '',
    handshakes,
    '',
    'Ratios to (a): below 1 is better for latency and CPU, above 1 is better for req/s and conns/s.',
    '',
    ratioTable,
    '',
    `Rounds with over ${NOISY_CORES} cores of uncharged CPU in a phase are noisy, left out when a quiet one exists:`,
    '',
    ...noise,
    ...(errors.length > 0 ? ['', ...errors] : []),
    '',
  ].join('\n');
}
