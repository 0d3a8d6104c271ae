// Idle memory of one `alder proxy`, given the same mesh two ways: --config (compiles a folder of Istio
// YAML, so it loads the config model, YAML and the compiler) and --snapshot (decodes a snapshot file
// saved from the first one's /config_dump). Reads VmRSS from /proc once the `proxy ready` line is out
// and again after an idle while. Linux only. Usage: node bench/proxy-rss.ts [--rounds N] [--idle-ms MS]

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const ALDER = join(ROOT, 'bin', 'alder.js');
const MESH = join(ROOT, 'examples', 'bookinfo');
const WORKLOAD = 'default/productpage-v1';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, 'idle-ms': { type: 'string', default: '3000' } },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
}

/** Starts `alder proxy ARGS`; resolves with the process and its admin URL at the `proxy ready` line. */
async function start(args: string[]): Promise<{ child: ChildProcess; admin: string }> {
  const child = spawn(process.execPath, [ALDER, 'proxy', '--admin', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const entry = JSON.parse(line) as { msg?: string; admin?: string };
    if (entry.msg === 'proxy ready') return { child, admin: String(entry.admin) };
  }
  throw new Error(`alder proxy ${args.join(' ')} exited before it was ready`);
}

async function measure(args: string[], onReady?: (admin: string) => Promise<void>) {
  const { child, admin } = await start(args);
  const pid = child.pid as number;
  const atReady = rssMiB(pid);
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const idle = rssMiB(pid);
  await onReady?.(admin);
  child.kill('SIGTERM');
  await once(child, 'exit');
  return { atReady, idle };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'alder-rss-'));
const snapshotFile = join(dir, 'snapshot.json');
const results = {
  config: [] as { atReady: number; idle: number }[],
  snapshot: [] as { atReady: number; idle: number }[],
};
try {
  for (let i = 0; i < rounds; i++) {
    results.config.push(
      await measure(['--config', MESH, '--workload', WORKLOAD, '--outbound-proxy', 'none'], async (admin) => {
        writeFileSync(snapshotFile, await (await fetch(`${admin}/config_dump`)).text());
      }),
    );
    results.snapshot.push(await measure(['--snapshot', snapshotFile]));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (n: number) => `${n.toFixed(1)} MiB`;
process.stdout.write(`VmRSS of alder proxy for ${WORKLOAD} of ${MESH}, median of ${rounds} rounds\n`);
for (const [mode, rs] of Object.entries(results)) {
  process.stdout.write(
    `  --${mode.padEnd(8)}  at ready ${fmt(median(rs.map((r) => r.atReady)))}, after ${idleMs} ms idle ${fmt(median(rs.map((r) => r.idle)))}  (each: ${rs.map((r) => r.idle.toFixed(1)).join(', ')})\n`,
  );
}
