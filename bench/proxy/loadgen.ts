// Builds loadgen.c with `cc -O2` and runs it: a fixed-rate (open loop) or max-throughput (closed loop)
// phase against 127.0.0.1:PORT, returning the JSON line it prints. The C side does the measuring.

import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { BODY_BYTES } from './pair.ts';

const SOURCE = join(import.meta.dirname, 'loadgen.c');

/** One phase's result, as loadgen.c prints it. Latencies in milliseconds. */
export interface LoadResult {
  mode: 'rate' | 'max';
  targetRps: number;
  connections: number;
  scheduled: number;
  sent: number;
  completed: number;
  errors: number;
  durationS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  achievedRps: number;
}

/** Compiles the load generator into dir; returns the binary's path. */
export function buildLoadgen(cc: string, dir: string): string {
  const binary = join(dir, 'loadgen');
  try {
    execFileSync(cc, ['-O2', '-Wall', '-o', binary, SOURCE], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cc -O2 ${SOURCE} failed:\n${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  return binary;
}

export interface LoadPhase {
  binary: string;
  port: number;
  hostHeader: string | undefined;
  /** Requests per second at a fixed rate; 'max' for the closed loop. */
  rate: number | 'max';
  connections: number;
  durationS: number;
  cpuList: string | undefined;
}

export function runLoadgen(o: LoadPhase): Promise<LoadResult> {
  const args = [
    '--port',
    String(o.port),
    '--conns',
    String(o.connections),
    '--duration',
    String(o.durationS),
  ];
  args.push('--body', String(BODY_BYTES));
  args.push(...(o.rate === 'max' ? ['--max'] : ['--rate', String(o.rate)]));
  if (o.hostHeader !== undefined) args.push('--host-header', o.hostHeader);
  const [command, argv] =
    o.cpuList === undefined ? [o.binary, args] : ['taskset', ['-c', o.cpuList, o.binary, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(
          new Error(`loadgen ${args.join(' ')}: exit ${signal ?? code}: ${stderr.trim() || stdout.trim()}`),
        );
        return;
      }
      resolve(JSON.parse(line) as LoadResult);
    });
  });
}
