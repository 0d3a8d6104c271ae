// The first step of every inbound connection: tell mTLS from plaintext by its first byte (a TLS
// record starts with 0x16), then finish the handshake or apply the port's mTLS mode. STRICT refuses
// plaintext; PERMISSIVE lets it through. Yields the connection to serve and the peer's identity.

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { MeshTls } from '../tls/index.ts';
import { spiffeIdOfCertificate } from '../tls/index.ts';

export interface AcceptedConnection {
  socket: Socket | TLSSocket;
  /** The peer proxy's SPIFFE ID, when it came over mTLS. */
  peer: string | undefined;
}

export type Refusal = 'plaintext-refused' | 'tls-failed' | 'closed';

export interface AcceptOptions {
  mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  tls: MeshTls | undefined;
  /** Plaintext peers of server-first protocols send nothing: after this long, treat silence as plaintext. */
  firstByteTimeoutMs: number;
  alpn?: string[];
}

export function acceptMesh(
  socket: Socket,
  o: AcceptOptions,
  done: (conn: AcceptedConnection | Refusal) => void,
): void {
  let settled = false;
  const settle = (result: AcceptedConnection | Refusal) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(result);
  };
  const plaintext = () => {
    if (o.mode === 'STRICT') {
      socket.destroy();
      settle('plaintext-refused');
    } else settle({ socket, peer: undefined });
  };
  const timer = setTimeout(() => {
    socket.off('data', onFirst);
    socket.pause();
    plaintext();
  }, o.firstByteTimeoutMs);
  const onFirst = (chunk: Buffer) => {
    socket.pause();
    socket.unshift(chunk);
    if (chunk[0] !== 0x16 || o.tls === undefined || o.mode === 'DISABLE') {
      plaintext();
      return;
    }
    clearTimeout(timer);
    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: o.tls.server,
      requestCert: true,
      rejectUnauthorized: true,
      ...(o.alpn === undefined ? {} : { ALPNProtocols: o.alpn }),
    });
    secure.once('secure', () => {
      // A TLSSocket built by hand does not act on rejectUnauthorized (only tls.Server's connection
      // listener does): the chain check's verdict must be read and enforced here, or a certificate
      // from any CA would be taken at its word.
      if (peerVerifyError(secure) !== null) {
        secure.destroy();
        settle('tls-failed');
        return;
      }
      const peer = spiffeIdOfCertificate(secure.getPeerCertificate());
      settle({ socket: secure, peer });
    });
    secure.once('error', () => {
      secure.destroy();
      settle('tls-failed');
    });
  };
  socket.once('data', onFirst);
  socket.once('close', () => settle('closed'));
  socket.resume();
}

/** OpenSSL's verdict on the peer's certificate chain (null: it chains to the mesh's CA). */
function peerVerifyError(socket: TLSSocket): Error | null {
  const handle = (socket as unknown as { _handle?: { verifyError(): Error | null } })._handle;
  // No handle: the socket is already gone, which is no verified peer either.
  return handle === undefined ? new Error('connection closed during the handshake') : handle.verifyError();
}
