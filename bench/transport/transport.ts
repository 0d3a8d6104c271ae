// What process A's load drivers need of a transport, and the factory that opens one by name. Each
// implementation lives in its own file; all four carry the same request and answer byte for byte.

import type { SecureContext } from 'node:tls';
import { H1Pipeline } from './h1-pipeline.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Transport } from './h2-session.ts';
import { HboneTransport } from './hbone.ts';
import type { Ports, TransportName } from './protocol.ts';

/** Called once per request: true when a complete 200 answer arrived, false on any failure. */
export type Done = (isOk: boolean) => void;

export interface Transport {
  /** Sends request number `n` now (or as soon as a connection or tunnel is free). */
  send(n: number, done: Done): void;
  /** Closes every connection; requests still in flight complete with false. */
  close(): void;
}

export interface Target {
  ports: Ports;
  context: SecureContext;
  peerSpiffeId: string;
}

export async function openTransport(name: TransportName, target: Target): Promise<Transport> {
  switch (name) {
    case 'h1-pool':
      return new H1Pool({
        port: target.ports.h1,
        context: target.context,
        peerSpiffeId: target.peerSpiffeId,
      });
    case 'h1-pipelined':
      return await H1Pipeline.open({
        port: target.ports.h1,
        context: target.context,
        peerSpiffeId: target.peerSpiffeId,
      });
    case 'h2':
      return await H2Transport.open({
        port: target.ports.h2,
        context: target.context,
        peerSpiffeId: target.peerSpiffeId,
      });
    case 'hbone':
      return await HboneTransport.open({
        port: target.ports.hbone,
        context: target.context,
        peerSpiffeId: target.peerSpiffeId,
      });
    default: {
      const never: never = name;
      throw new Error(`unknown transport ${String(never)}`);
    }
  }
}

/** One request on `t`, as a promise; rejects when the answer is not a complete 200. */
export function sendOnce(t: Transport, n: number): Promise<void> {
  return new Promise((resolve, reject) =>
    t.send(n, (isOk) => (isOk ? resolve() : reject(new Error(`request ${n} failed`)))),
  );
}
