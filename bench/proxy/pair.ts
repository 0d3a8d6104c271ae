// The "proxy pair" abstraction: one entry per data plane under test. A pair starts its two proxies,
// A (plain HTTP/1.1 in, like an app's local sidecar) and B (mutual TLS 1.3 in from A, plain HTTP/1.1
// out to the shared backend), and says where the load generator should send. measure.ts does the rest.

import type { CertFiles } from './certs.ts';
import type { ManagedProcess } from './managed-process.ts';
import type { PairName } from './options.ts';
import type { Tools } from './tools.ts';

/** Size of every request body (POST) and every response body. */
export const BODY_BYTES = 1024;

export interface PairContext {
  /** A scratch folder for this pair's configs and logs. */
  dir: string;
  certs: CertFiles;
  /** The backend's port on 127.0.0.1: plain HTTP/1.1, fixed 1 KiB answer. */
  backendPort: number;
  /** taskset CPU list for the proxies; undefined when not pinning. */
  cpuList: string | undefined;
  tools: Tools;
  log: (line: string) => void;
}

export interface RunningPair {
  /** Where the load generator connects, on 127.0.0.1. */
  port: number;
  /** Host header the load generator sends; undefined sends 127.0.0.1:PORT. */
  hostHeader: string | undefined;
  /** Proxy A (client side) and B (server side); absent for `direct`. Measured as process trees. */
  proxies: { a: ManagedProcess; b: ManagedProcess } | undefined;
  stop(): Promise<void>;
}

export interface ProxyPair {
  name: PairName;
  /** Shown in tables: `nginx 1.22.1`. */
  title: string;
  /** Why this pair cannot run here (a notice, not a failure), or undefined when it can. */
  skipReason(): string | undefined;
  start(ctx: PairContext): Promise<RunningPair>;
}

/** Starts A and B and waits for both ports; stops whichever started if the other fails. */
export async function startBoth(
  startA: () => Promise<ManagedProcess>,
  startB: () => Promise<ManagedProcess>,
): Promise<{ a: ManagedProcess; b: ManagedProcess }> {
  const b = await startB();
  try {
    return { a: await startA(), b };
  } catch (err) {
    await b.stop();
    throw err;
  }
}

/** The running pair for proxies A and B, with the load generator aimed at A's `port`. */
export function runningPair(
  port: number,
  proxies: { a: ManagedProcess; b: ManagedProcess },
  hostHeader?: string,
): RunningPair {
  return {
    port,
    hostHeader,
    proxies,
    stop: async () => {
      await Promise.all([proxies.a.stop(), proxies.b.stop()]);
    },
  };
}
