// Markdown tables of a push benchmark run, with the targets beside the figures.

import { CHANGE_TITLES } from './mesh-config.ts';
import type { RoundResult } from './round.ts';

const fmt = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** ACK p99 targets by proxies connected (ms). */
export const ACK_P99_TARGET_MS: Record<number, number> = { 1000: 1000, 10000: 3000 };
export const ENDPOINT_BYTES_TARGET = 1024;
export const MEMORY_KIB_TARGET = 100;

export interface TargetCheck {
  target: string;
  figure: string;
  isMet: boolean;
}

export function targetChecks(rounds: RoundResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const r of rounds) {
    const target = ACK_P99_TARGET_MS[r.proxies];
    if (target !== undefined && r.changes.length > 0) {
      const worst = Math.max(...r.changes.map((c) => c.ackP99Ms));
      out.push({
        target: `${fmt(r.proxies)} proxies ACK within ${target / 1000} s at p99`,
        figure: `worst change p99 ${fmt(worst)} ms`,
        isMet: worst <= target,
      });
    }
    const ep = r.changes.find((c) => c.change === 'endpoint');
    if (ep !== undefined) {
      out.push({
        target: `endpoint change under 1 KiB per proxy (${fmt(r.proxies)} proxies)`,
        figure: `${fmt(ep.bytesPerProxy)} B`,
        isMet: ep.bytesPerProxy < ENDPOINT_BYTES_TARGET,
      });
    }
    if (r.proxies >= 1000) {
      const kib = Math.max(r.memory.rssKiBPerProxy, r.memory.heapKiBPerProxy);
      out.push({
        target: `control-plane memory under 100 KiB per proxy (${fmt(r.proxies)} proxies)`,
        figure: `RSS ${fmt(r.memory.rssKiBPerProxy, 1)} KiB, heap ${fmt(r.memory.heapKiBPerProxy, 1)} KiB`,
        isMet: kib < MEMORY_KIB_TARGET,
      });
    }
  }
  return out;
}

export function markdownReport(rounds: RoundResult[]): string {
  const lines: string[] = [];
  lines.push(
    '| proxies | change | ACK p50 (ms) | ACK p99 (ms) | ACK max (ms) | bytes / proxy | pushes / proxy | CP CPU / proxy (µs) |',
  );
  lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rounds) {
    for (const c of r.changes) {
      lines.push(
        `| ${fmt(r.proxies)} | ${CHANGE_TITLES[c.change]} | ${fmt(c.ackP50Ms)} | ${fmt(c.ackP99Ms)} | ${fmt(c.ackMaxMs)} | ${fmt(c.bytesPerProxy)} | ${fmt(c.pushesPerProxy)} | ${fmt(c.cpuUsPerProxy, 1)} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    '| proxies | connect all (s) | every first ACK (s) | first push / proxy (KiB) | CP RSS / proxy (KiB) | CP heap / proxy (KiB) | CP RSS with N (MiB) | CP CPU idle (pings) |',
  );
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rounds) {
    lines.push(
      `| ${fmt(r.proxies)} | ${fmt(r.connectMs / 1000, 1)} | ${fmt(r.allFirstAckMs / 1000, 1)} | ${fmt(r.firstPushBytes / 1024)} | ${fmt(r.memory.rssKiBPerProxy, 1)} | ${fmt(r.memory.heapKiBPerProxy, 1)} | ${fmt(r.memory.rssNBytes / 1048576)} | ${fmt(r.idleCpuShare * 100, 1)} % |`,
    );
  }
  const bursts = rounds.filter((r) => r.burst !== undefined);
  if (bursts.length > 0) {
    lines.push('');
    lines.push(
      '| proxies | separate writes in a row | pushes / proxy (p50) | pushes / proxy (max) | bytes / proxy | first write → last ACK (ms) |',
    );
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of bursts) {
      const b = r.burst as NonNullable<RoundResult['burst']>;
      lines.push(
        `| ${fmt(r.proxies)} | ${b.writes} | ${fmt(b.pushesP50)} | ${fmt(b.pushesMax)} | ${fmt(b.bytesPerProxy)} | ${fmt(b.lastAckAfterFirstWriteMs)} |`,
      );
    }
  }
  const checks = targetChecks(rounds);
  if (checks.length > 0) {
    lines.push('');
    lines.push('| target | measured | met |');
    lines.push('| --- | --- | --- |');
    for (const c of checks) lines.push(`| ${c.target} | ${c.figure} | ${c.isMet ? 'yes' : '**no**'} |`);
  }
  const errors = rounds.flatMap((r) => r.errors.map((e) => `${r.proxies} proxies: ${e}`));
  if (errors.length > 0) lines.push('', 'Errors seen by proxies:', ...errors.map((e) => `- ${e}`));
  return `${lines.join('\n')}\n`;
}
