// Which upgrades the mesh carries, and the relay an accepted one becomes. As Istio configures Envoy
// (upgrade_configs: websocket), WebSocket passes on every HTTP route; any other Upgrade is refused
// with 403 (h2c is no upgrade here: the HTTP/1 codec drops it and serves the request as HTTP/1.1).

import type { Duplex } from 'node:stream';
import type { IncomingRequest } from '../http/index.ts';
import { isWebSocket } from '../http1/index.ts';
import { relay } from '../l4/index.ts';
import { type LocalReply, localReply, Reply } from '../local-reply/index.ts';

/** An upgraded connection with nothing moving either way closes after this long, as a TCP relay does. */
export const UPGRADED_IDLE_TIMEOUT_MS = 3_600_000;

/** Why the request's upgrade is not carried, or undefined (no upgrade, or a WebSocket handshake). */
export function upgradeRefusal(req: IncomingRequest): LocalReply | undefined {
  const upgrade = req.upgrade;
  if (upgrade === undefined) return undefined;
  if (!isWebSocket(upgrade)) {
    return localReply(
      Reply.UpgradeRefused,
      `upgrade refused: the mesh carries WebSocket upgrades only, not ${JSON.stringify(upgrade)}; send the request without Upgrade, or reach the service as TCP (CONNECT through the forward proxy, or a tcp port)`,
    );
  }
  if (req.framing !== 'none') {
    return localReply(
      Reply.UpgradeRefused,
      'upgrade refused: a WebSocket handshake has no body (RFC 6455 §4.1), and this one has one',
    );
  }
  return undefined;
}

/**
 * Relays an upgraded connection: the caller's stream and the upstream's tunnel, both ways, half-close
 * kept, both released as soon as either side is gone or both were idle `UPGRADED_IDLE_TIMEOUT_MS`.
 */
export function relayUpgraded(caller: Duplex, tunnel: Duplex, onClose: () => void): void {
  relay(caller, tunnel, { idleTimeoutMs: UPGRADED_IDLE_TIMEOUT_MS, onClose });
}
