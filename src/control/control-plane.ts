// `alder control-plane`: opens the store, serves the API, and shuts down gracefully on SIGTERM or
// SIGINT (stop accepting, end watches, finish in-flight requests, close the store).

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../telemetry/index.ts';
import { createApiServer } from './api/server.ts';
import { SqliteStore, type Store } from './store/index.ts';

export interface ControlPlaneOptions {
  /** host:port to listen on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Folder for the embedded store (created if missing). */
  dataDir: string;
  maxBodyBytes: number;
  log: Logger;
}

export interface ControlPlane {
  /** `http://127.0.0.1:15080` */
  url: string;
  store: Store;
  /** Stops serving and closes the store; safe to call twice. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { log } = options;
  const store = new SqliteStore({ path: join(options.dataDir, 'alder.db') });
  const api = createApiServer({
    store,
    log: log.with({ component: 'api' }),
    maxBodyBytes: options.maxBodyBytes,
  });
  api.server.listen(options.listen.port, options.listen.host);
  try {
    await once(api.server, 'listening');
  } catch (err) {
    await store.close();
    throw err;
  }
  const address = api.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  api.setReady(true);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      api.setReady(false);
      const closed = new Promise<void>((resolve) => api.server.close(() => resolve()));
      api.endWatches();
      api.server.closeIdleConnections();
      await closed;
      await store.close();
    })();
    return stopping;
  };
  return { url, store, stop };
}
