// A workload's pushes, applied one at a time in the order they came, each answered with ACK or NACK
// on the connection it came on (not on a newer one: that one's hello said what the proxy holds).

import type { TLSSocket } from 'node:tls';
import { encodeMessage, type Push } from '../wire/index.ts';

export class PushQueue {
  readonly #apply: (push: Push) => Promise<string | undefined>;
  #tail: Promise<void> = Promise.resolve();

  /** `apply` resolves with undefined when the proxy took the push, else the reason it refused. */
  constructor(apply: (push: Push) => Promise<string | undefined>) {
    this.#apply = apply;
  }

  add(push: Push, socket: TLSSocket): void {
    this.#tail = this.#tail.then(async () => {
      let refused: string | undefined;
      try {
        refused = await this.#apply(push);
      } catch (err) {
        refused = (err as Error).message;
      }
      if (socket.destroyed) return;
      socket.write(
        encodeMessage(
          refused === undefined
            ? { ack: { workload: push.workload, nonce: push.nonce } }
            : { nack: { workload: push.workload, nonce: push.nonce, error: refused } },
        ),
      );
    });
  }
}
