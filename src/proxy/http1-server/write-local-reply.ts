// Writes a local reply on an HTTP/1 connection: the table's content with HTTP/1 framing.

import type { Socket } from 'node:net';
import { serializeResponseHead } from '../http1/index.ts';
import { type LocalReply, replyContent } from '../local-reply/index.ts';

// node:http is taken as the CommonJS object, not imported: see src/proxy/admin.ts.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** Writes the reply; with `close`, ends the connection after it. */
export function writeLocalReply(socket: Socket, reply: LocalReply, close: boolean): void {
  if (socket.destroyed || !socket.writable) return;
  const { body, headers } = replyContent(reply);
  headers.push('content-length', String(body.length));
  if (close) headers.push('connection', 'close');
  const head = serializeResponseHead(reply.status, STATUS_CODES[reply.status] ?? '', headers);
  socket.cork();
  socket.write(head, 'latin1');
  if (body.length > 0) socket.write(body);
  socket.uncork();
  if (close) socket.end();
}
