// Replies the proxy makes itself. Every one carries its response flag in a header and a reason in
// plain words, so a user tells at a glance that the mesh answered, not the app, and why.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { serializeResponseHead } from '../http1/index.ts';
import { LOCAL_REPLY_HEADER } from '../response-flags.ts';

export interface LocalReply {
  status: number;
  flag: string;
  message: string;
}

/** Writes the reply; with `close`, ends the connection after it. */
export function writeLocalReply(socket: Socket, reply: LocalReply, close: boolean): void {
  if (socket.destroyed || !socket.writable) return;
  const body = `${reply.message}\n`;
  const headers = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    LOCAL_REPLY_HEADER,
    reply.flag,
  ];
  if (close) headers.push('connection', 'close');
  const head = serializeResponseHead(reply.status, STATUS_CODES[reply.status] ?? '', headers);
  socket.write(head + body);
  if (close) socket.end();
}
