// Process A, the sending proxy's side of the hop: opens the transport run.ts names, drives one phase
// at a time against process B and answers with what it measured. Started by run.ts with IPC; the
// certificate files and B's SPIFFE ID come as one JSON argument.

import { runHandshakes, runMax, runRate } from './load.ts';
import { secureContextOf } from './mtls.ts';
import type { FromClient, Ports, ToClient, TransportName, WorkloadTls } from './protocol.ts';
import { openTransport, type Target, type Transport } from './transport.ts';

const tls = JSON.parse(process.argv[2] ?? '{}') as WorkloadTls;
const context = secureContextOf(tls);
const send = (message: FromClient) => process.send?.(message);

/** The transport the current series of phases uses; reopened after a phase that left requests unanswered. */
let current: { name: TransportName; transport: Transport } | undefined;

async function transportFor(name: TransportName, ports: Ports): Promise<Transport> {
  if (current?.name === name) return current.transport;
  current?.transport.close();
  current = { name, transport: await openTransport(name, targetOf(ports)) };
  return current.transport;
}

const targetOf = (ports: Ports): Target => ({ ports, context, peerSpiffeId: tls.peerSpiffeId });

function reset(): void {
  current?.transport.close();
  current = undefined;
}

async function runPhase(message: Extract<ToClient, { kind: 'phase' }>): Promise<FromClient> {
  const { phase } = message;
  let outcome: Awaited<ReturnType<typeof runRate>>;
  switch (phase.kind) {
    case 'rate': {
      const t = await transportFor(message.transport, message.ports);
      outcome = await runRate(t, { ...phase, drainS: message.drainS });
      break;
    }
    case 'max':
      outcome = await runMax(await transportFor(message.transport, message.ports), phase);
      break;
    case 'handshake':
      reset();
      outcome = await runHandshakes(() => openTransport(message.transport, targetOf(message.ports)), phase);
      break;
    default: {
      const never: never = phase;
      throw new Error(`client: unknown phase ${JSON.stringify(never)}`);
    }
  }
  // A transport with requests still in flight is out of step: start the next phase on a fresh one.
  if (!outcome.isClean) reset();
  return { kind: 'result', result: outcome.result };
}

process.on('message', (message: ToClient) => {
  switch (message.kind) {
    case 'phase':
      runPhase(message).then(send, (err: unknown) =>
        send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
      );
      break;
    case 'reset':
      reset();
      send({ kind: 'reset-done' });
      break;
    case 'exit':
      process.exit(0);
      break;
    default: {
      const never: never = message;
      throw new Error(`client: unknown message ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready' });
