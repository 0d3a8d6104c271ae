// The RFC 6455 opening handshake's key and accept, for the two places the proxy takes part in it:
// an HTTP/2 WebSocket (RFC 8441, which drops the key) sent to an HTTP/1 app needs a key the proxy
// makes and checks, and an HTTP/1 client whose HTTP/2 upstream answered without an accept gets one.

import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1). */
export function newWebSocketKey(): string {
  return randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept that answers `key`: base64(SHA-1(key + GUID)). */
export function webSocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** True for the `websocket` upgrade token, in any case. */
export function isWebSocket(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.toLowerCase() === 'websocket';
}
