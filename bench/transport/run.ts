// Which transport should carry HTTP between proxies? Measures the mTLS hop alone, as two Node
// processes on separate cores: A (client.ts) sends, B (server.ts) answers 1 KiB, over (a) an HTTP/1.1
// keep-alive pool, (b) one HTTP/2 session, (c) HBONE and (d) pipelined HTTP/1.1. See docs/transport.md.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateCerts } from '../proxy/certs.ts';
import { machineBusySeconds, waitForQuiet } from './machine-cpu.ts';
import { parseOptions, type TransportBenchOptions, USAGE } from './options.ts';
import {
  cpuSecondsNow,
  type FromClient,
  type FromServer,
  type Phase,
  type Ports,
  type ToClient,
  type ToServer,
  type TransportName,
} from './protocol.ts';
import {
  fmt,
  type Measured,
  markdownReport,
  QUIET_CORES,
  type Round,
  ratiosToA,
  summarize,
} from './report.ts';
import { startWorker, type Worker } from './worker.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[bench:transport] ${line}\n`);

type Client = Worker<ToClient, FromClient>;
type Server = Worker<ToServer, FromServer>;

interface Io {
  client: Client;
  server: Server;
  ports: Ports;
  drainS: number;
}

/** A and the harness (which only waits) on CPU 0, B on CPU 1; or nothing pinned. */
function cpuPlan(opts: TransportBenchOptions) {
  const none = { a: undefined, b: undefined };
  if (!opts.isPinned) return { ...none, note: 'not pinned (--no-pin)' };
  if (cpus().length < 2) return { ...none, note: 'not pinned: fewer than 2 CPUs' };
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return { ...none, note: 'not pinned: taskset failed or is missing' };
  }
  return { a: '0', b: '1', note: 'A (sender) + harness on CPU 0, B (receiver) on CPU 1' };
}

async function serverCpu(server: Server): Promise<number> {
  const m = await server.ask({ kind: 'cpu' });
  if (m.kind !== 'cpu') throw new Error(`server: want a cpu reply, got ${m.kind}`);
  return m.seconds;
}

/** One phase on A, with B's CPU time read just before and just after it. */
async function measure(io: Io, transport: TransportName, phase: Phase): Promise<Measured> {
  const before = await serverCpu(io.server);
  const machine0 = machineBusySeconds();
  const own0 = cpuSecondsNow();
  const t0 = performance.now();
  const reply = await io.client.ask({ kind: 'phase', transport, ports: io.ports, phase, drainS: io.drainS });
  const elapsedS = (performance.now() - t0) / 1000;
  const own = cpuSecondsNow() - own0;
  const machine = machineBusySeconds() - machine0;
  const after = await serverCpu(io.server);
  if (reply.kind === 'failed') throw new Error(`${transport} ${phase.kind}: ${reply.message}`);
  if (reply.kind !== 'result') throw new Error(`client: want a result, got ${reply.kind}`);
  const cpuBS = after - before;
  // CPU charged to none of A, B and the harness, in cores on average (1/100 s ticks: ±0.01 s).
  const unchargedCores = Math.max(0, machine - own - cpuBS - reply.result.cpuS) / elapsedS;
  return { load: reply.result, cpuBS, unchargedCores };
}

async function runRound(
  io: Io,
  opts: TransportBenchOptions,
  transport: TransportName,
  repeat: number,
): Promise<Round> {
  const round: Round = {
    transport,
    repeat,
    rates: [],
    max: undefined,
    handshake: undefined,
    failure: undefined,
  };
  const top = Math.max(...opts.ratesRps);
  const other = await waitForQuiet({ maxWaitS: opts.isQuick ? 1 : 2, thresholdCores: QUIET_CORES });
  if (other >= QUIET_CORES)
    log(`${transport} #${repeat}: the rest of the machine uses ${fmt(other)} cores; going ahead`);
  try {
    if (opts.warmupS > 0) await measure(io, transport, { kind: 'rate', rps: top, durationS: opts.warmupS });
    for (const rps of opts.ratesRps) {
      const m = await measure(io, transport, { kind: 'rate', rps, durationS: opts.durationS });
      round.rates.push({ rps, ...m });
      log(
        `${transport} #${repeat}: ${rps} req/s → p50 ${fmt(m.load.p50Ms)} ms, ` +
          `p99 ${fmt(m.load.p99Ms)} ms, ${m.load.errors} errors`,
      );
    }
    const phase = { kind: 'max', concurrency: opts.concurrency, durationS: opts.maxDurationS } as const;
    round.max = await measure(io, transport, phase);
    log(`${transport} #${repeat}: max ${Math.round(round.max.load.achievedRps)} req/s`);
    await io.client.ask({ kind: 'reset' });
    if (transport !== 'h1-pipelined' && opts.handshakeDurationS > 0) {
      round.handshake = await measure(io, transport, {
        kind: 'handshake',
        concurrency: opts.handshakeConcurrency,
        durationS: opts.handshakeDurationS,
      });
      log(`${transport} #${repeat}: ${Math.round(round.handshake.load.achievedRps)} new connections/s`);
    }
  } catch (err) {
    round.failure = err instanceof Error ? err.message : String(err);
    log(`${transport} #${repeat}: failed: ${round.failure}`);
    await io.client.ask({ kind: 'reset' });
  }
  return round;
}

/** Makes the certificates, starts B and A (pinned when asked) and waits for both to be ready. */
async function startProcesses(dir: string, cpu: { a: string | undefined; b: string | undefined }) {
  const certs = generateCerts('openssl', dir);
  const tlsOf = (own: typeof certs.a, peer: typeof certs.b) => ({
    certFile: own.certFile,
    keyFile: own.keyFile,
    caFile: certs.caFile,
    peerSpiffeId: peer.spiffeId,
  });
  const script = (name: string) => join(import.meta.dirname, name);
  const server = startWorker<ToServer, FromServer>({
    name: 'B',
    script: script('server.ts'),
    arg: tlsOf(certs.b, certs.a),
    cpuList: cpu.b,
  });
  const client = startWorker<ToClient, FromClient>({
    name: 'A',
    script: script('client.ts'),
    arg: tlsOf(certs.a, certs.b),
    cpuList: cpu.a,
  });
  const stop = async () => {
    await client.stop({ kind: 'exit' });
    await server.stop({ kind: 'exit' });
  };
  try {
    const ready = await server.next();
    if (ready.kind !== 'ready') throw new Error(`server: want ready, got ${ready.kind}`);
    await client.next();
    return { client, server, ports: ready.ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function writeRecord(file: string, record: object): void {
  mkdirSync(dirname(file), { recursive: true });
  // Missing figures are written as null rather than dropped.
  const json = JSON.stringify(record, (_k, v: unknown) => (v === undefined ? null : v), 2);
  writeFileSync(file, `${json}\n`);
}

async function main(): Promise<number> {
  let opts: TransportBenchOptions | 'help';
  try {
    opts = parseOptions(process.argv.slice(2), join(ROOT, 'bench', 'results', 'transport.json'));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const [load1] = loadavg();
  if ((load1 ?? 0) > 0.5)
    log(`warning: load average ${load1?.toFixed(2)}: other work on this machine adds noise`);
  const cpu = cpuPlan(opts);
  log(`pinning: ${cpu.note}`);
  const dir = mkdtempSync(join(tmpdir(), 'alder-bench-transport-'));
  const startedAt = Date.now();
  try {
    const started = await startProcesses(dir, cpu);
    const { ports } = started;
    log(`B listening on 127.0.0.1: h1 ${ports.h1}, h2 ${ports.h2}, hbone ${ports.hbone}`);
    const rounds: Round[] = [];
    try {
      const io: Io = { ...started, drainS: opts.drainS };
      // Rounds interleave the transports, so slow drift on the machine spreads over all of them.
      for (let repeat = 1; repeat <= opts.repeats; repeat++) {
        for (const t of opts.transports) rounds.push(await runRound(io, opts, t, repeat));
      }
    } finally {
      await started.stop();
    }
    const summary = summarize(rounds, opts.transports, opts.ratesRps);
    const markdown = markdownReport({ ...opts, summary, rates: opts.ratesRps });
    process.stdout.write(`\n${markdown}\nJSON: ${opts.outFile}\n`);
    writeRecord(opts.outFile, {
      date: new Date().toISOString(),
      command: `node bench/transport/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      runSeconds: Math.round((Date.now() - startedAt) / 1000),
      environment: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverageAtStart: load1,
        loadAverageAtEnd: loadavg()[0],
        pinning: cpu.note,
        node: process.version,
        openssl: process.versions.openssl,
        nghttp2: process.versions.nghttp2,
      },
      options: opts,
      summary,
      ratiosToA: ratiosToA(summary, opts.transports, opts.ratesRps),
      rounds,
      markdown,
    });
    log(`wrote ${opts.outFile} (${Math.round((Date.now() - startedAt) / 1000)} s)`);
    return rounds.some((r) => r.failure !== undefined) ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
