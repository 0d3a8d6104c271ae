// Moves bytes both ways between two connections (L4), keeping half-close: when one side finishes
// sending, the other is told so and may still answer. Ends both on error or after an idle period.

import type { Duplex } from 'node:stream';

export type RelayEnd = 'done' | 'idle' | 'error';

export interface RelayOptions {
  idleTimeoutMs: number;
  /** Called once, when both connections have closed. */
  onClose?: (summary: { bytesIn: number; bytesOut: number; reason: RelayEnd }) => void;
}

/** `downstream` is the side that connected to us; `upstream` the side we connected to. */
export function relay(downstream: Duplex, upstream: Duplex, o: RelayOptions): void {
  let bytesIn = 0;
  let bytesOut = 0;
  let reason: RelayEnd = 'done';
  let open = 2;
  const timer = setTimeout(() => teardown('idle'), o.idleTimeoutMs);
  function teardown(why: RelayEnd): void {
    if (reason === 'done') reason = why;
    downstream.destroy();
    upstream.destroy();
  }
  const onClose = () => {
    open--;
    if (open > 0) {
      // One side is gone for good (not a half-close): nothing more can flow.
      if (!(downstream.writableEnded && upstream.writableEnded)) setImmediate(() => teardown(reason));
      return;
    }
    clearTimeout(timer);
    o.onClose?.({ bytesIn, bytesOut, reason });
  };
  downstream.on('data', (chunk: Buffer) => {
    bytesIn += chunk.length;
    timer.refresh();
  });
  upstream.on('data', (chunk: Buffer) => {
    bytesOut += chunk.length;
    timer.refresh();
  });
  // pipe() respects backpressure and, on allowHalfOpen sockets, passes a FIN on as end().
  downstream.pipe(upstream);
  upstream.pipe(downstream);
  downstream.once('error', () => teardown('error'));
  upstream.once('error', () => teardown('error'));
  downstream.once('close', onClose);
  upstream.once('close', onClose);
}
