// Idle memory of one `alder proxy`, given the same mesh three ways: --config (compiles a folder of
// Istio YAML, so it loads the config model, YAML and the compiler), --snapshot (decodes a snapshot file
// saved from the first one's /config_dump) and --control-plane (joins a real control plane with a
// join token, then takes its config from the stream). Reads VmRSS from /proc once the `proxy ready`
// line is out and again after an idle while, with RssAnon then (VmRSS less the pages of files such as
// the node binary, which every proxy on a host shares). Linux only.
// Usage: node bench/proxy-rss.ts [--rounds N] [--idle-ms MS]

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const MESH = join(ROOT, 'examples', 'bookinfo');
const WORKLOAD = 'default/productpage-v1';
const SERVICE_ACCOUNT = 'bookinfo-productpage';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, 'idle-ms': { type: 'string', default: '3000' } },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);

/** A field of /proc/PID/status in MiB (VmRSS: all resident pages; RssAnon: those no file backs). */
function statusMiB(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
}

/**
 * Starts `alder ARGS` and resolves at its first JSON log line whose `msg` is `ready`, with that line;
 * fails if the process exits first. Every line is read to the end, so the child never blocks on a
 * full pipe.
 */
function startUntil(args: string[], ready: string): Promise<{ child: ChildProcess; line: LogLine }> {
  const child = spawn(process.execPath, [ALDER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      const line = parseLine(text);
      if (line?.msg === ready) resolve({ child, line });
    });
    child.on('exit', () => reject(new Error(`alder ${args.join(' ')} exited before it logged ${ready}`)));
  });
}

type LogLine = Record<string, unknown>;

function parseLine(text: string): LogLine | undefined {
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return undefined;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function measure(args: string[], onReady?: (admin: string) => Promise<void>) {
  const { child, line } = await startUntil(['proxy', '--admin', '127.0.0.1:0', ...args], 'proxy ready');
  try {
    const pid = child.pid as number;
    const atReady = statusMiB(pid, 'VmRSS');
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const idle = statusMiB(pid, 'VmRSS');
    const anon = statusMiB(pid, 'RssAnon');
    await onReady?.(String(line.admin));
    return { atReady, idle, anon };
  } finally {
    await stop(child);
  }
}

const run = promisify(execFile);

/** A control plane in `dir` with Bookinfo applied; `token` lets productpage-v1 join, any number of times. */
async function startMeshControlPlane(dir: string) {
  const dataDir = join(dir, 'cp');
  const { child, line } = await startUntil(
    ['control-plane', ...['--listen', '127.0.0.1:0', '--mesh-listen', '127.0.0.1:0', '--data-dir', dataDir]],
    'control plane ready',
  );
  try {
    const env = {
      ...process.env,
      ALDER_SERVER: String(line.url),
      ALDER_TOKEN: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
    };
    await run(process.execPath, [ALDER, 'apply', '-f', MESH], { env });
    const [namespace] = WORKLOAD.split('/');
    const created = await run(
      process.execPath,
      [
        ALDER,
        'token',
        'create',
        ...['--namespace', namespace as string, '--service-account', SERVICE_ACCOUNT, '-o', 'json'],
      ],
      { env },
    );
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    return { child, mesh: new URL(String(line.meshUrl)).host, token };
  } catch (err) {
    await stop(child);
    throw err;
  }
}

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'alder-rss-'));
const snapshotFile = join(dir, 'snapshot.json');
type Sample = { atReady: number; idle: number; anon: number };
const results = { config: [] as Sample[], snapshot: [] as Sample[], 'control-plane': [] as Sample[] };
let controlPlane: ChildProcess | undefined;
try {
  const cp = await startMeshControlPlane(dir);
  controlPlane = cp.child;
  for (let i = 0; i < rounds; i++) {
    results.config.push(
      await measure(['--config', MESH, '--workload', WORKLOAD, '--outbound-proxy', 'none'], async (admin) => {
        writeFileSync(snapshotFile, await (await fetch(`${admin}/config_dump`)).text());
      }),
    );
    results.snapshot.push(await measure(['--snapshot', snapshotFile]));
    // A new state folder each round: the proxy joins with the token (key and CSR made in a child
    // process), as a proxy does on its first start.
    results['control-plane'].push(
      await measure([
        ...['--control-plane', cp.mesh, '--workload', WORKLOAD, '--token', cp.token],
        ...['--state-dir', join(dir, `state-${i}`), '--outbound-proxy', 'none'],
      ]),
    );
  }
} finally {
  if (controlPlane !== undefined) await stop(controlPlane);
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (n: number) => `${n.toFixed(1)} MiB`;
process.stdout.write(
  `VmRSS of alder proxy for ${WORKLOAD} of ${MESH}, median of ${rounds} rounds (RssAnon: the part no file backs, which each more proxy adds)\n`,
);
for (const [mode, rs] of Object.entries(results)) {
  const median = (pick: (r: Sample) => number) => fmt(medianOf(rs.map(pick)));
  process.stdout.write(
    `  --${mode.padEnd(13)}  at ready ${median((r) => r.atReady)}, after ${idleMs} ms idle ${median((r) => r.idle)} (RssAnon ${median((r) => r.anon)})  (each: ${rs.map((r) => r.idle.toFixed(1)).join(', ')})\n`,
  );
}
