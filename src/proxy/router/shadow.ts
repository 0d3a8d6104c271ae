// Mirroring: a copy of a request sent to another cluster, fire and forget, in whatever protocol that
// cluster speaks. The copy's authority has `-shadow` appended (Envoy's rule); its response is read
// and dropped; it never holds up or changes the original exchange: body that arrives before the
// mirror's stream is up is buffered up to a cap, and a mirror that falls further behind, fails or
// runs past its deadline is simply dropped.

import type { OutgoingRequest } from '../http/index.ts';
import { ProxyError } from '../local-reply/index.ts';
import type { Runtime } from '../runtime/index.ts';
import {
  openStream,
  pickEndpoint,
  type UpstreamEvents,
  type UpstreamStream,
  upstreamTlsOf,
} from '../upstream/index.ts';
import type { Mirror } from './outbound-route.ts';

/** What the exchange feeds a mirror as the original request's body arrives. */
export interface Shadow {
  body(chunk: Buffer): void;
  end(trailers: string[] | null): void;
  /** The original request failed mid-way: the copy must not complete either. */
  abort(): void;
}

/** A mirror holds at most this much unsent body before it gives up. */
const MAX_BUFFERED = 1024 * 1024;
/** A mirror's whole exchange must finish within this long. */
const SHADOW_DEADLINE_MS = 30_000;

export function startShadow(mirror: Mirror, req: OutgoingRequest, runtime: Runtime): Shadow {
  const cr = mirror.cluster;
  const headers: string[] = [];
  for (let k = 0; k < req.headers.length; k += 2) {
    if (req.headers[k] !== 'host') headers.push(req.headers[k] as string, req.headers[k + 1] as string);
  }
  headers.push('host', mirror.authority);
  const copy: OutgoingRequest = { ...req, authority: mirror.authority, headers };
  let up: UpstreamStream | undefined;
  let pending: Buffer[] | undefined = [];
  let ending: { trailers: string[] | null } | undefined;
  let buffered = 0;
  /** Bytes written since the mirror's stream last said it was full. */
  let behind = -1;
  let isDead = false;
  const kill = () => {
    isDead = true;
    pending = undefined;
    clearTimeout(timer);
    up?.abort();
    up = undefined;
  };
  const timer = setTimeout(kill, SHADOW_DEADLINE_MS).unref();
  const events: UpstreamEvents = {
    onHead: () => undefined,
    onBody: () => undefined,
    onEnd: () => {
      clearTimeout(timer);
      isDead = true;
      up?.release(ending !== undefined);
      up = undefined;
    },
    onFailure: kill,
    // A mirror never carries an upgrade (the router sends none); a tunnel would be dropped.
    onUpgrade: (_head, tunnel) => {
      tunnel.destroy();
      kill();
    },
  };
  const endpoint = pickEndpoint(cr, mirror.authority);
  if (endpoint instanceof ProxyError) kill();
  else {
    const target = {
      endpoint,
      protocol: cr.cluster.protocol,
      tls: upstreamTlsOf(cr, runtime.tls),
      connectTimeoutMs: cr.cluster.connectTimeoutMs,
      cluster: cr,
    };
    openStream(runtime, target, copy, events).then((stream) => {
      if (isDead) {
        stream.abort();
        return;
      }
      up = stream;
      stream.onDrain = () => {
        behind = -1;
      };
      for (const chunk of pending ?? []) stream.write(chunk);
      pending = undefined;
      if (ending !== undefined) stream.end(ending.trailers);
    }, kill);
  }
  return {
    body: (chunk) => {
      if (isDead) return;
      if (up === undefined) {
        buffered += chunk.length;
        if (buffered > MAX_BUFFERED) kill();
        else pending?.push(Buffer.from(chunk));
        return;
      }
      if (behind >= 0) behind += chunk.length;
      else if (!up.write(chunk)) behind = 0;
      if (behind > MAX_BUFFERED) kill();
      else if (behind > 0) up.write(chunk);
    },
    end: (trailers) => {
      ending = { trailers };
      up?.end(trailers);
    },
    abort: kill,
  };
}
