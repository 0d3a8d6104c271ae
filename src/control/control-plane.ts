// `alder control-plane`: opens the store, serves the API, and shuts down gracefully on SIGTERM or
// SIGINT (stop accepting, end watches, finish in-flight requests, close the store).

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CertificateAuthority } from '../identity/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { createApiServer } from './api/server.ts';
import { JoinTokens } from './identity/index.ts';
import { SqliteStore, type Store } from './store/index.ts';

export interface ControlPlaneOptions {
  /** host:port to listen on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Folder for the embedded store (created if missing). */
  dataDir: string;
  maxBodyBytes: number;
  log: Logger;
  /** An operator's plug-in CA folder (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); default: the CA's own root in `<dataDir>/ca`. */
  caDir?: string;
}

export interface ControlPlane {
  /** `http://127.0.0.1:15080` */
  url: string;
  store: Store;
  ca: CertificateAuthority;
  tokens: JoinTokens;
  /** Stops serving and closes the store; safe to call twice. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { log } = options;
  const store = new SqliteStore({ path: join(options.dataDir, 'alder.db') });
  let ca: CertificateAuthority;
  let tokens: JoinTokens;
  try {
    ca = await CertificateAuthority.open({
      dir: join(options.dataDir, 'ca'),
      trustDomain: 'cluster.local',
      ...(options.caDir === undefined ? {} : { pluginDir: options.caDir }),
    });
    tokens = new JoinTokens({
      path: join(options.dataDir, 'tokens.db'),
      caFingerprint: () => ca.fingerprint(),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const api = createApiServer({
    store,
    tokens,
    ca,
    log: log.with({ component: 'api' }),
    maxBodyBytes: options.maxBodyBytes,
  });
  api.server.listen(options.listen.port, options.listen.host);
  try {
    await once(api.server, 'listening');
  } catch (err) {
    tokens.close();
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
      tokens.close();
      await store.close();
    })();
    return stopping;
  };
  return { url, store, ca, tokens, stop };
}
