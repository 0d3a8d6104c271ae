// One round of the push benchmark: a fresh control plane with the bench config and N proxies'
// WorkloadEntries, N simulated proxies connected, then each change written and timed to every ACK,
// and optionally a burst of separate writes. Memory is measured after gc, with 0 then N connected.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CertFiles } from './certs.ts';
import { Child, nowMs } from './ipc.ts';
import {
  CHANGES,
  type ChangeName,
  NAMESPACE,
  proxiesYaml,
  proxyName,
  serviceAccountOfShape,
  serviceName,
  servicesYaml,
  shapeOf,
  virtualServiceYaml,
} from './mesh-config.ts';
import { max, median, percentile } from './stats.ts';

const CONTROL_PLANE = join(import.meta.dirname, 'control-plane.ts');
const FLEET = join(import.meta.dirname, 'fleet.ts');
/** Quiet time that ends a change: no push to any proxy for this long after the last ACK. */
const QUIET_MS = 300;
/** Idle window over which the CPU cost of connected proxies' pings is measured. */
const IDLE_WINDOW_MS = 2000;

export interface RoundSetup {
  proxies: number;
  services: number;
  repeats: number;
  /** Separate writes in a row after the changes (0: none). */
  burst: number;
  doChanges: boolean;
  dir: string;
  certs: { server: CertFiles; clients: Record<string, CertFiles> };
  cpuList: { controlPlane: string | undefined; proxies: string | undefined };
  cpuProfDir: string | undefined;
  log(line: string): void;
}

export interface ChangeResult {
  change: ChangeName;
  /** Medians over repeats of each repeat's figure. */
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  bytesPerProxy: number;
  pushesPerProxy: number;
  /** Control-plane CPU for the change, pings' idle cost taken out, per connected proxy. */
  cpuUsPerProxy: number;
  repeats: {
    ackP50Ms: number;
    ackP99Ms: number;
    ackMaxMs: number;
    bytesPerProxy: number;
    pushesPerProxy: number;
    cpuUsPerProxy: number;
    writeMs: number;
  }[];
}

export interface RoundResult {
  proxies: number;
  fleetProcesses: number;
  connectMs: number;
  connectRetries: number;
  /** From the first connection attempt to the last proxy's first ACK. */
  allFirstAckMs: number;
  /** Median size of a proxy's first push (its whole config). */
  firstPushBytes: number;
  memory: {
    rss0Bytes: number;
    heap0Bytes: number;
    /** V8's heap as reserved (used or not) with 0 and N, and memory outside it that V8 knows of (Buffers) with N. */
    heapTotal0Bytes: number;
    heapTotalNBytes: number;
    externalNBytes: number;
    rssNBytes: number;
    heapNBytes: number;
    rssKiBPerProxy: number;
    heapKiBPerProxy: number;
  };
  /** Control-plane CPU share (of one core) with N proxies connected and nothing changing: their pings. */
  idleCpuShare: number;
  changes: ChangeResult[];
  burst?: {
    writes: number;
    pushesP50: number;
    pushesMax: number;
    lastAckAfterFirstWriteMs: number;
    bytesPerProxy: number;
  };
  errors: string[];
}

interface Stats {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  connected: number;
  revision: number;
}

interface Settled {
  latencyMs: number[];
  bytes: number[];
  pushes: number[];
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuUs = (c: { cpuUserUs: number; cpuSystemUs: number }) => c.cpuUserUs + c.cpuSystemUs;

export async function runRound(s: RoundSetup): Promise<RoundResult> {
  const n = s.proxies;
  const cpDir = join(s.dir, `cp-${n}-${Date.now()}`);
  mkdirSync(cpDir, { recursive: true });
  const execArgv = ['--expose-gc'];
  if (s.cpuProfDir !== undefined) {
    execArgv.push(
      '--cpu-prof',
      '--cpu-prof-dir',
      s.cpuProfDir,
      '--cpu-prof-name',
      `push-control-plane-${n}.cpuprofile`,
    );
  }
  const cp = new Child('control plane', CONTROL_PLANE, { execArgv, cpuList: s.cpuList.controlPlane });
  const fleets: Child[] = [];
  try {
    const { meshPort } = await cp.ask<{ meshPort: number }>(
      'start',
      { dataDir: cpDir, tls: s.certs.server },
      60_000,
    );
    let last = await cp.ask<{ revision: number }>('write', {
      yaml: servicesYaml(s.services, 3).join('---\n'),
    });
    for (const yaml of proxiesYaml(n, 500)) last = await cp.ask('write', { yaml }, 120_000);
    await untilRevision(cp, last.revision);
    const zero = await cp.ask<Stats>('stats');
    s.log(`${n} proxies: config written (revision ${last.revision}); connecting`);

    const fleetCount = n >= 1000 ? 2 : 1;
    const specs = Array.from({ length: n }, (_, k) => ({
      name: proxyName(k),
      namespace: NAMESPACE,
      serviceAccount: serviceAccountOfShape(shapeOf(k)),
    }));
    for (let f = 0; f < fleetCount; f++)
      fleets.push(new Child(`proxies ${f + 1}`, FLEET, { cpuList: s.cpuList.proxies }));
    const started = nowMs();
    const connected = await Promise.all(
      fleets.map((f, i) =>
        f.ask<{ connectMs: number; retries: number }>(
          'connect',
          {
            port: meshPort,
            certs: s.certs.clients,
            proxies: specs.filter((_, k) => k % fleetCount === i),
            concurrency: 64,
          },
          Math.max(120_000, n * 60),
        ),
      ),
    );
    const connectMs = nowMs() - started;
    s.log(`${n} proxies: connected in ${(connectMs / 1000).toFixed(1)} s; waiting for every first ACK`);
    const firsts = await Promise.all(
      fleets.map((f) =>
        f.ask<{ lastFirstAckAt: number; firstPushBytes: number[] }>(
          'firstAcks',
          { timeoutMs: Math.max(60_000, n * 10) },
          Math.max(70_000, n * 11),
        ),
      ),
    );
    const firstPushBytes = median(firsts.flatMap((x) => x.firstPushBytes));
    const allFirstAckMs = Math.max(...firsts.map((x) => x.lastFirstAckAt)) - started;
    await sleep(1000);
    const full = await cp.ask<Stats>('stats');
    if (full.connected !== n)
      throw new Error(`want ${n} proxies connected, the control plane counts ${full.connected}`);
    const idle0 = await cp.ask<Stats>('cpu');
    await sleep(IDLE_WINDOW_MS);
    const idle1 = await cp.ask<Stats>('cpu');
    const idleUsPerMs = (cpuUs(idle1) - cpuUs(idle0)) / IDLE_WINDOW_MS;

    const changeOnce = async (yaml: string) => {
      await Promise.all(fleets.map((f) => f.ask('mark')));
      const c0 = await cp.ask<Stats>('cpu');
      const t0 = nowMs();
      const w = await cp.ask<{ revision: number; writtenAt: number; writeMs: number }>('write', { yaml });
      const settled = await settle(fleets, w, n);
      const c1 = await cp.ask<Stats>('cpu');
      const busyUs = cpuUs(c1) - cpuUs(c0) - idleUsPerMs * (nowMs() - t0);
      return { w, settled, cpuUsPerProxy: Math.max(0, busyUs) / n };
    };

    const changes: ChangeResult[] = [];
    const errors: string[] = [];
    if (s.doChanges) {
      for (const change of Object.keys(CHANGES) as ChangeName[]) {
        const repeats: ChangeResult['repeats'] = [];
        for (let rep = 1; rep <= s.repeats; rep++) {
          const { w, settled, cpuUsPerProxy } = await changeOnce(CHANGES[change](rep));
          errors.push(...settled.errors);
          repeats.push({
            ackP50Ms: percentile(settled.latencyMs, 50),
            ackP99Ms: percentile(settled.latencyMs, 99),
            ackMaxMs: max(settled.latencyMs),
            bytesPerProxy: median(settled.bytes),
            pushesPerProxy: median(settled.pushes),
            cpuUsPerProxy,
            writeMs: w.writeMs,
          });
        }
        const med = (k: keyof ChangeResult['repeats'][number]) => median(repeats.map((r) => r[k]));
        const result: ChangeResult = {
          change,
          ackP50Ms: med('ackP50Ms'),
          ackP99Ms: med('ackP99Ms'),
          ackMaxMs: med('ackMaxMs'),
          bytesPerProxy: med('bytesPerProxy'),
          pushesPerProxy: med('pushesPerProxy'),
          cpuUsPerProxy: med('cpuUsPerProxy'),
          repeats,
        };
        changes.push(result);
        s.log(
          `${n} proxies: ${change}: ACK p50 ${result.ackP50Ms.toFixed(0)} ms, p99 ${result.ackP99Ms.toFixed(0)} ms, max ${result.ackMaxMs.toFixed(0)} ms, ${result.bytesPerProxy} B/proxy`,
        );
      }
    }

    let burst: RoundResult['burst'];
    if (s.burst > 0) {
      await Promise.all(fleets.map((f) => f.ask('mark')));
      const yamls = Array.from({ length: s.burst }, (_, i) =>
        virtualServiceYaml(serviceName(2), `burst-${i}`),
      );
      const b = await cp.ask<{ first: { writtenAt: number }; last: { revision: number; writtenAt: number } }>(
        'burst',
        { yamls },
        120_000,
      );
      const settled = await settle(fleets, { revision: b.last.revision, writtenAt: b.first.writtenAt }, n);
      errors.push(...settled.errors);
      burst = {
        writes: s.burst,
        pushesP50: median(settled.pushes),
        pushesMax: max(settled.pushes),
        lastAckAfterFirstWriteMs: max(settled.latencyMs),
        bytesPerProxy: median(settled.bytes),
      };
      s.log(
        `${n} proxies: burst of ${s.burst} writes: ${burst.pushesP50} pushes per proxy (max ${burst.pushesMax})`,
      );
    }

    return {
      proxies: n,
      fleetProcesses: fleetCount,
      connectMs,
      connectRetries: connected.reduce((a, c) => a + c.retries, 0),
      allFirstAckMs,
      firstPushBytes,
      memory: {
        rss0Bytes: zero.rssBytes,
        heap0Bytes: zero.heapUsedBytes,
        heapTotal0Bytes: zero.heapTotalBytes,
        heapTotalNBytes: full.heapTotalBytes,
        externalNBytes: full.externalBytes,
        rssNBytes: full.rssBytes,
        heapNBytes: full.heapUsedBytes,
        rssKiBPerProxy: (full.rssBytes - zero.rssBytes) / 1024 / n,
        heapKiBPerProxy: (full.heapUsedBytes - zero.heapUsedBytes) / 1024 / n,
      },
      idleCpuShare: idleUsPerMs / 1000,
      changes,
      ...(burst === undefined ? {} : { burst }),
      errors: [...new Set(errors)].slice(0, 20),
    };
  } finally {
    await Promise.all(fleets.map((f) => f.ask('close', {}, 10_000).catch(() => {})));
    await Promise.all(fleets.map((f) => f.stop()));
    await cp.ask('stop', {}, 30_000).catch(() => {});
    await cp.stop();
  }
}

/** Waits until the control plane has computed a generation from `revision` (or later). */
async function untilRevision(cp: Child, revision: number): Promise<void> {
  const deadline = nowMs() + 60_000;
  while ((await cp.ask<Stats>('stats')).revision < revision) {
    if (nowMs() > deadline)
      throw new Error(`the control plane did not reach revision ${revision} within 60 s`);
    await sleep(100);
  }
}

async function settle(
  fleets: Child[],
  w: { revision: number; writtenAt: number },
  n: number,
): Promise<Settled> {
  const timeoutMs = Math.max(30_000, n * 10);
  const parts = await Promise.all(
    fleets.map((f) =>
      f.ask<Settled>(
        'settle',
        { revision: w.revision, writtenAt: w.writtenAt, quietMs: QUIET_MS, timeoutMs },
        timeoutMs + 5000,
      ),
    ),
  );
  return {
    latencyMs: parts.flatMap((p) => p.latencyMs),
    bytes: parts.flatMap((p) => p.bytes),
    pushes: parts.flatMap((p) => p.pushes),
    errors: parts.flatMap((p) => p.errors),
  };
}
