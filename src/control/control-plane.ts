// `alder control-plane`: opens the store, serves the API, and shuts down gracefully on SIGTERM or
// SIGINT (stop accepting, end watches, finish in-flight requests, close the store).

import { once } from 'node:events';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CertificateAuthority } from '../identity/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { sendError } from './api/http-io.ts';
import { HostPolicy } from './api/request-guard.ts';
import { createApiServer } from './api/server.ts';
import { ApiTokens, principalOfCertificate } from './auth/index.ts';
import { JoinTokens } from './identity/index.ts';
import { AutoRegistry } from './push/auto-registry.ts';
import { Distributor } from './push/distributor.ts';
import { handleJoinApi } from './push/join-api.ts';
import { createMeshServer } from './push/mesh-server.ts';
import { SqliteStore, type Store } from './store/index.ts';

export interface ControlPlaneOptions {
  /** host:port to listen on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Folder for the embedded store (created if missing). */
  dataDir: string;
  maxBodyBytes: number;
  log: Logger;
  /**
   * The mesh port: where proxies join and hold their stream (HTTPS with the given certificate; the
   * SPIFFE ID of a verified client certificate identifies a proxy). Omitted: no distribution.
   */
  mesh?: {
    listen: { host: string; port: number };
    /** Names and addresses proxies reach the control plane by, for its certificate (the listen address is one). */
    names?: string[];
    /** A serving certificate to use instead of one from the mesh CA (tests). */
    tls?: { key: string; cert: string; ca: string };
    debounceMs?: number;
  };
  /** Lifetime of workload certificates (24 h by default); proxies renew at half of it. */
  workloadCertTtlMs?: number;
  /** How long an auto-registered WorkloadEntry outlives its proxy's stream (10 s by default). */
  autoRegistrationGraceMs?: number;
  /** Caps the store's database at this many pages: tests simulate a full disk with it. */
  storeMaxPages?: number;
  /** Host names (any port) or NAME:PORT the API answers besides its listen addresses and localhost. */
  allowedHosts?: string[];
  /** An operator's plug-in CA folder (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); default: the CA's own root in `<dataDir>/ca`. */
  caDir?: string;
}

export interface ControlPlane {
  /** `http://127.0.0.1:15080` */
  url: string;
  store: Store;
  /** `https://127.0.0.1:15012`, when the mesh port is served. */
  meshUrl: string | undefined;
  distributor: Distributor | undefined;
  ca: CertificateAuthority;
  tokens: JoinTokens;
  /** Stops serving and closes the store; safe to call twice. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { log } = options;
  const store = new SqliteStore({
    path: join(options.dataDir, 'alder.db'),
    ...(options.storeMaxPages === undefined ? {} : { maxPageCount: options.storeMaxPages }),
  });
  let ca: CertificateAuthority;
  let tokens: JoinTokens;
  let apiTokens: ApiTokens;
  try {
    apiTokens = ApiTokens.open(options.dataDir);
    ca = await CertificateAuthority.open({
      dir: join(options.dataDir, 'ca'),
      trustDomain: 'cluster.local',
      ...(options.caDir === undefined ? {} : { pluginDir: options.caDir }),
      ...(options.workloadCertTtlMs === undefined ? {} : { workloadTtlMs: options.workloadCertTtlMs }),
    });
    tokens = new JoinTokens({
      path: join(options.dataDir, 'tokens.db'),
      caFingerprint: () => ca.fingerprint(),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const registry = new AutoRegistry({
    store,
    log: log.with({ component: 'registry' }),
    ...(options.autoRegistrationGraceMs === undefined ? {} : { graceMs: options.autoRegistrationGraceMs }),
  });
  const distributor =
    options.mesh === undefined
      ? undefined
      : new Distributor({
          store,
          log: log.with({ component: 'push' }),
          trustBundle: () => ca.trustBundle(),
          // A proof's chain must lead where the mesh port's client certificates must.
          clientTrustBundle: () => options.mesh?.tls?.ca ?? ca.trustBundle(),
          autoRegistry: registry,
          ...(options.mesh.debounceMs === undefined ? {} : { debounceMs: options.mesh.debounceMs }),
        });
  let mesh: Server | undefined;
  const onRootRotated = async () => {
    log.info('root rotated: pushing the new trust bundle', { fingerprint: ca.fingerprint() });
    distributor?.refresh();
    if (mesh !== undefined && options.mesh !== undefined && options.mesh.tls === undefined) {
      mesh.setSecureContext(await meshCertificate(ca, options.mesh.listen.host, options.mesh.names ?? []));
    }
  };
  const api = createApiServer({
    onRootRotated,
    store,
    tokens,
    ca,
    log: log.with({ component: 'api' }),
    maxBodyBytes: options.maxBodyBytes,
    apiTokens,
    hosts: new HostPolicy(options.allowedHosts ?? []),
    authenticateCertificate: (socket) => principalOfCertificate(socket, ca.trustDomain),
    ...(distributor === undefined ? {} : { distributor }),
  });
  api.server.listen(options.listen.port, options.listen.host);
  try {
    await once(api.server, 'listening');
  } catch (err) {
    tokens.close();
    await store.close();
    throw err;
  }
  const apiAddress = api.server.address() as AddressInfo;
  api.hosts.allowListener(options.listen.host, apiAddress.port);
  api.hosts.allowListener(apiAddress.address, apiAddress.port);
  const url = `http://${hostPortOf(apiAddress)}`;
  let meshUrl: string | undefined;
  if (options.mesh !== undefined && distributor !== undefined) {
    try {
      await distributor.start();
      const peerIdentity = (socket: TLSSocket) => (socket.authorized ? spiffeIdOfPeer(socket) : undefined);
      const joinContext = { store, ca, tokens, registry, peerIdentity, log };
      const tls =
        options.mesh.tls ?? (await meshCertificate(ca, options.mesh.listen.host, options.mesh.names ?? []));
      mesh = createMeshServer({
        tls,
        peerIdentity,
        onStream: (socket, peer) => distributor.attach(socket, peer),
        onRequest: (req, res) => {
          handleJoinApi(req, res, joinContext)
            .then((handled) => {
              if (!handled) api.handle(req, res);
            })
            .catch((err: unknown) => sendError(req, res, err, log));
        },
      });
      mesh.listen(options.mesh.listen.port, options.mesh.listen.host);
      await once(mesh, 'listening');
      const meshAddress = mesh.address() as AddressInfo;
      api.hosts.allowListener(options.mesh.listen.host, meshAddress.port);
      api.hosts.allowListener(meshAddress.address, meshAddress.port);
      for (const name of options.mesh.names ?? []) api.hosts.allowName(name);
      meshUrl = `https://${hostPortOf(meshAddress)}`;
    } catch (err) {
      registry.stop();
      distributor.stop();
      api.server.close();
      tokens.close();
      await store.close();
      throw err;
    }
  }
  api.setReady(true);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      api.setReady(false);
      const closed = new Promise<void>((resolve) => api.server.close(() => resolve()));
      api.endWatches();
      api.server.closeIdleConnections();
      registry.stop();
      distributor?.stop();
      if (mesh !== undefined) {
        const meshClosed = new Promise<void>((resolve) => mesh?.close(() => resolve()));
        mesh.closeAllConnections();
        await meshClosed;
      }
      await closed;
      tokens.close();
      await store.close();
    })();
    return stopping;
  };
  return { url, meshUrl, distributor, store, ca, tokens, stop };
}

/** The mesh port's certificate from the mesh CA: its listen address, localhost, and the names given. */
async function meshCertificate(
  ca: CertificateAuthority,
  host: string,
  names: readonly string[],
): Promise<{ key: string; cert: string; ca: string }> {
  const all = [host, 'localhost', '127.0.0.1', ...names].filter(
    (n) => n !== '' && n !== '0.0.0.0' && n !== '::',
  );
  const ips = [...new Set(all.filter((n) => isIP(n) !== 0))];
  const dns = [...new Set(all.filter((n) => isIP(n) === 0))];
  const issued = await ca.issueServer({ ips, dns });
  return { key: issued.keyPem, cert: issued.chainPem, ca: ca.trustBundle() };
}

function hostPortOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${host}:${address.port}`;
}

/** The `spiffe://` URI SAN of a peer's verified certificate. */
function spiffeIdOfPeer(socket: TLSSocket): string | undefined {
  const san = socket.getPeerCertificate()?.subjectaltname ?? '';
  for (const part of san.split(', ')) if (part.startsWith('URI:spiffe://')) return part.slice(4);
  return undefined;
}
