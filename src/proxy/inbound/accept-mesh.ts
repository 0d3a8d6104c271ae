// The first step of every inbound connection: tell mTLS from plaintext by its first byte (a TLS
// record starts with 0x16), then finish the handshake or apply the port's mTLS mode. STRICT refuses
// plaintext; PERMISSIVE lets it through. Yields the connection to serve and the peer's identity.
// Until then the gate owns the connection's life: a handshake that is not done in time, a peer that
// stops sending first, and a TLS error each close it at once.

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { layeredOver } from '../l4/index.ts';
import type { MeshTls } from '../tls/index.ts';
import { spiffeIdOfCertificate } from '../tls/index.ts';

export interface AcceptedConnection {
  socket: Socket | TLSSocket;
  /** The peer proxy's SPIFFE ID, when it came over mTLS. */
  peer: string | undefined;
}

export type Refusal = 'plaintext-refused' | 'tls-failed' | 'handshake-timeout' | 'closed';

export interface AcceptOptions {
  mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  tls: MeshTls | undefined;
  /**
   * PERMISSIVE and DISABLE: plaintext peers of server-first protocols send nothing, so after this long
   * silence means plaintext. STRICT takes TLS only and waits the handshake timeout instead.
   */
  firstByteTimeoutMs: number;
  /** From accept to a finished TLS handshake (Envoy's transport_socket_connect_timeout). */
  handshakeTimeoutMs: number;
  alpn?: string[];
}

export function acceptMesh(
  socket: Socket,
  o: AcceptOptions,
  done: (conn: AcceptedConnection | Refusal) => void,
): void {
  let settled = false;
  let secure: TLSSocket | undefined;
  const settle = (result: AcceptedConnection | Refusal) => {
    if (settled) return;
    settled = true;
    clearTimeout(silence);
    clearTimeout(deadline);
    socket.off('end', onEnd);
    secure?.off('end', onEnd);
    done(result);
  };
  const refuse = (reason: Refusal) => {
    secure?.destroy();
    socket.destroy();
    settle(reason);
  };
  const plaintext = () => {
    if (o.mode === 'STRICT') refuse('plaintext-refused');
    else settle({ socket, peer: undefined });
  };
  // The listener keeps half-open connections (HTTP/1 clients may half-close after a request): a peer
  // that finishes sending before its handshake is done can never complete it.
  const onEnd = () => refuse('closed');
  const deadline = setTimeout(() => refuse('handshake-timeout'), o.handshakeTimeoutMs);
  const silence =
    o.mode === 'STRICT'
      ? undefined
      : setTimeout(() => {
          socket.off('data', onFirst);
          socket.pause();
          plaintext();
        }, o.firstByteTimeoutMs);
  const onFirst = (chunk: Buffer) => {
    clearTimeout(silence);
    socket.pause();
    socket.unshift(chunk);
    if (chunk[0] !== 0x16 || o.tls === undefined || o.mode === 'DISABLE') {
      plaintext();
      return;
    }
    secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: o.tls.server,
      requestCert: true,
      rejectUnauthorized: true,
      ...(o.alpn === undefined ? {} : { ALPNProtocols: o.alpn }),
    });
    const tlsSocket = secure;
    layeredOver(tlsSocket, socket);
    tlsSocket.once('secure', () => {
      // A TLSSocket built by hand does not act on rejectUnauthorized (only tls.Server's connection
      // listener does): the chain check's verdict must be read and enforced here, or a certificate
      // from any CA would be taken at its word.
      if (peerVerifyError(tlsSocket) !== null) {
        refuse('tls-failed');
        return;
      }
      const peer = spiffeIdOfCertificate(tlsSocket.getPeerCertificate());
      settle({ socket: tlsSocket, peer });
    });
    tlsSocket.once('error', () => refuse('tls-failed'));
    // The TLS socket took over the connection: its end, not the plain socket's, says the peer stopped.
    tlsSocket.once('end', onEnd);
  };
  socket.once('data', onFirst);
  socket.once('end', onEnd);
  socket.once('close', () => settle('closed'));
  socket.resume();
}

/** OpenSSL's verdict on the peer's certificate chain (null: it chains to the mesh's CA). */
function peerVerifyError(socket: TLSSocket): Error | null {
  const handle = (socket as unknown as { _handle?: { verifyError(): Error | null } })._handle;
  // No handle: the socket is already gone, which is no verified peer either.
  return handle === undefined ? new Error('connection closed during the handshake') : handle.verifyError();
}
