// The caller's connection as routing reads it (hashing on the source IP, generated cookies).

import type { Socket } from 'node:net';
import type { DownstreamAddress } from '../router/index.ts';

export function downstreamOf(socket: Socket): DownstreamAddress {
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}
