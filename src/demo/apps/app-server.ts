// Listen and shutdown for the demo apps: the address from ALDER_APP_ADDRESS and PORT, the one
// "listening" line, and a graceful stop on SIGTERM/SIGINT (stop accepting, let in-flight work finish
// for a bounded time, close the rest, exit 0). Each app says what its parts are; HTTP/1 servers get
// their part from serveHttp.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { errorMessage, logLine } from './log.ts';

/** Something that stops in two steps: `drain` finishes in-flight work, `destroy` drops what is left. */
export interface Part {
  drain(): Promise<void>;
  destroy(): void;
}

/**
 * From now on, an error nothing caught (a bad setting, a port in use) ends the app with one JSON log
 * line and exit code 1, not a stack trace. Each app calls it first.
 */
export function exitOnFatalError(name: string): void {
  const fatal = (error: unknown) => {
    logLine(name, 'error', 'fatal', { error: errorMessage(error) });
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** How long in-flight work may take to finish after SIGTERM before it is cut. */
export const SHUTDOWN_GRACE_MS = 5_000;

export function listenAddress(defaultPort: number): { host: string; port: number } {
  const host = process.env.ALDER_APP_ADDRESS || '127.0.0.1';
  const raw = process.env.PORT;
  const port = raw === undefined || raw === '' ? defaultPort : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0 to 65535), got ${JSON.stringify(raw)}`);
  }
  return { host, port };
}

/** Listens on the app's address and prints `NAME listening on HOST:PORT` (the bound port, if PORT=0). */
export async function listen(server: NetServer, name: string, defaultPort: number): Promise<AddressInfo> {
  const { host, port } = listenAddress(defaultPort);
  server.listen(port, host);
  try {
    await once(server, 'listening'); // rejects on 'error'
  } catch (e) {
    throw new Error(`cannot listen on ${host}:${port}: ${errorMessage(e)}`);
  }
  const bound = server.address() as AddressInfo;
  process.stdout.write(`${name} listening on ${bound.address}:${bound.port}\n`);
  return bound;
}

/**
 * On SIGTERM or SIGINT: drains the parts in order (servers first, then the clients they use) within
 * SHUTDOWN_GRACE_MS, destroys them all, and leaves exit code 0. A second signal changes nothing.
 */
export function stopOnSignal(name: string, parts: readonly Part[]): void {
  let isStopping = false;
  const stop = async (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), SHUTDOWN_GRACE_MS);
    });
    const drained = (async () => {
      for (const part of parts) await part.drain();
      return 'drained' as const;
    })();
    // Said once the first part has begun to drain: a server has closed its listener by then.
    logLine(name, 'info', 'stopping', { signal });
    const how = await Promise.race([drained, grace]).catch(() => 'cut' as const);
    clearTimeout(timer);
    for (const part of parts) part.destroy();
    logLine(name, 'info', 'stopped', { how });
    process.exitCode = 0;
    // Every handle is closed by now; should one be missed, it must not keep the process alive.
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * An HTTP/1 server for `handle`, listening on the app's address, with a Part that stops it: close the
 * listener and idle keep-alive connections, answer in-flight requests with `connection: close`, and
 * resolve once none is left. A handler that throws gets a JSON 500 and a log line.
 */
export async function serveHttp(name: string, defaultPort: number, handle: Handler) {
  const active = new Set<ServerResponse>();
  let isDraining = false;
  let onIdle: (() => void) | undefined;
  const server: Server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 30_000 }, (req, res) => {
    active.add(res);
    if (isDraining) res.setHeader('connection', 'close');
    res.once('close', () => {
      active.delete(res);
      if (active.size === 0) onIdle?.();
    });
    handle(req, res).catch((error: unknown) => {
      logLine(name, 'error', 'request failed', { path: req.url, error: errorMessage(error) });
      sendJson(res, 500, { error: 'internal error', detail: errorMessage(error) });
    });
  });
  const address = await listen(server, name, defaultPort);
  const part: Part = {
    drain: async () => {
      isDraining = true;
      server.close();
      server.closeIdleConnections();
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
      if (active.size === 0) return;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
      });
    },
    destroy: () => server.closeAllConnections(),
  };
  return { server, address, part };
}

/** Answers `body` as JSON, unless an answer has already started. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
