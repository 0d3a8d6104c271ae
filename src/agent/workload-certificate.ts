// The workload's certificate, as its proxy holds it: the key made here and never sent, the chain
// the mesh CA issued for a CSR, and the trust bundle, kept in the state folder (key mode 0600, each
// file replaced whole) so that a restarted proxy keeps its identity. Joins with a token (after
// checking the control plane's root against the hash the token carries) and renews at half-life
// with the current certificate.

import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/core.ts';
import type { Logger } from '../telemetry/index.ts';
import {
  type AutoRegistration,
  type ProxyTls,
  type RunRegistration,
  runGroupName,
  type WorkloadRef,
} from '../wire/index.ts';
import { createKeyAndCsrApart } from './csr-process.ts';
import type { Credentials } from './proxy-agent.ts';

const KEY = 'key.pem';
const CHAIN = 'cert-chain.pem';
const BUNDLE = 'root-cert.pem';
const IDENTITY = 'identity.json';

export interface ControlPlaneAddress {
  host: string;
  port: number;
}

/**
 * Who the proxy joins as: a WorkloadEntry by name, a member of a WorkloadGroup, or the workload
 * `alder run` starts (a member of the group the control plane makes for its service and version).
 */
export type JoinAs =
  | { workload: WorkloadRef }
  | { group: WorkloadRef; address?: string; labels?: Record<string, string> }
  | { run: RunRegistration; address: string; labels?: Record<string, string>; appAddress?: string };

/** Who the saved certificate is for, as identity.json keeps it. */
interface SavedIdentity {
  workload: WorkloadRef;
  /** Set when the workload joined as a member of a WorkloadGroup. */
  autoRegister?: AutoRegistration;
}

interface CertificateAnswer {
  workload: WorkloadRef;
  autoRegister?: AutoRegistration;
  spiffeId: string;
  certificateChain: string;
  trustBundle: string;
  notAfter: string;
}

export class WorkloadCertificate implements Credentials {
  readonly files: ProxyTls;
  /** The WorkloadEntry the certificate was issued for (for a group member: the one made for it). */
  readonly workload: WorkloadRef;
  /** Set for a member of a WorkloadGroup: what its proxy says on reconnect to be registered again. */
  readonly autoRegister: AutoRegistration | undefined;
  readonly #dir: string;
  #pem: { cert: string; key: string; ca: string };
  #renewal: NodeJS.Timeout | undefined;

  private constructor(dir: string, identity: SavedIdentity, pem: { cert: string; key: string; ca: string }) {
    this.#dir = dir;
    this.#pem = pem;
    this.workload = identity.workload;
    this.autoRegister = identity.autoRegister;
    this.files = { certFile: join(dir, CHAIN), keyFile: join(dir, KEY), caFile: join(dir, BUNDLE) };
  }

  /** The certificate saved for this workload (or group member), if it is still valid for another minute. */
  static load(dir: string, as: JoinAs): WorkloadCertificate | undefined {
    try {
      const saved = JSON.parse(readFileSync(join(dir, IDENTITY), 'utf8')) as Partial<SavedIdentity>;
      const w = saved.workload;
      if (typeof w?.namespace !== 'string' || typeof w.name !== 'string') return undefined;
      const group =
        'run' in as
          ? { namespace: as.run.namespace, name: runGroupName(as.run) }
          : 'group' in as
            ? as.group
            : undefined;
      const isSame =
        'workload' in as
          ? saved.autoRegister === undefined &&
            w.namespace === as.workload.namespace &&
            w.name === as.workload.name
          : saved.autoRegister !== undefined &&
            w.namespace === group?.namespace &&
            saved.autoRegister.group === group.name &&
            (as.address === undefined || saved.autoRegister.address === as.address) &&
            (!('run' in as) || saved.autoRegister.appAddress === as.appAddress);
      if (!isSame) return undefined;
      const pem = {
        cert: readFileSync(join(dir, CHAIN), 'utf8'),
        key: readFileSync(join(dir, KEY), 'utf8'),
        ca: readFileSync(join(dir, BUNDLE), 'utf8'),
      };
      const identity: SavedIdentity = { workload: { namespace: w.namespace, name: w.name } };
      if (saved.autoRegister !== undefined) identity.autoRegister = saved.autoRegister;
      const c = new WorkloadCertificate(dir, identity, pem);
      const expiry = c.notAfter();
      return expiry !== undefined && expiry.getTime() > Date.now() + 60_000 ? c : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Joins: fetches the trust bundle, checks that one of its roots has the hash the token carries
   * (else the control plane is not the one the token came from: the secret is not sent), then
   * sends the token and a CSR over a connection verified against that root.
   */
  static async join(
    dir: string,
    cp: ControlPlaneAddress,
    token: string,
    as: JoinAs,
  ): Promise<WorkloadCertificate> {
    const { parseJoinToken } = await import('../identity/join-token-format.ts');
    const { caFingerprint } = parseJoinToken(token);
    const bundleAnswer = (await call(cp, 'GET', '/alder/v1/trust-bundle', undefined, {})) as {
      trustBundle: string;
    };
    const bundle = String(bundleAnswer.trustBundle ?? '');
    if (!rootsOf(bundle).some((der) => fingerprintOf(der) === caFingerprint)) {
      throw new AlderError(
        ErrorCode.TokenRefused,
        `the control plane at ${cp.host}:${cp.port} does not hold the CA the token names (${caFingerprint.slice(0, 19)}…): the token was not sent`,
        { hint: 'check --control-plane, or create a token on this control plane with `alder token create`' },
      );
    }
    const { keyPem, csrPem } = await createKeyAndCsrApart();
    const answer = (await call(
      cp,
      'POST',
      '/alder/v1/join',
      {
        token,
        csr: csrPem,
        ...joinBody(as),
      },
      { ca: bundle },
    )) as CertificateAnswer;
    const identity: SavedIdentity = { workload: answer.workload };
    if (answer.autoRegister !== undefined) identity.autoRegister = answer.autoRegister;
    return WorkloadCertificate.#save(dir, identity, {
      cert: answer.certificateChain,
      key: keyPem,
      ca: answer.trustBundle,
    });
  }

  /** Renews with the current certificate; the new key and chain replace the old ones on disk. */
  async renew(cp: ControlPlaneAddress): Promise<void> {
    const workload = this.workload;
    const spiffeId = this.spiffeId();
    const { keyPem, csrPem } = await createKeyAndCsrApart(spiffeId);
    const answer = (await call(
      cp,
      'POST',
      '/alder/v1/certificates',
      { workload: `${workload.namespace}/${workload.name}`, csr: csrPem },
      { ca: this.#pem.ca, cert: this.#pem.cert, key: this.#pem.key },
    )) as CertificateAnswer;
    const next = WorkloadCertificate.#save(this.#dir, this.#identity(), {
      cert: answer.certificateChain,
      key: keyPem,
      ca: answer.trustBundle,
    });
    this.#pem = next.#pem;
  }

  /**
   * Renews at half of the certificate's life (then retries with back-off until it works), and calls
   * `onRenewed` so the proxy takes the new one for new connections.
   */
  keepFresh(cp: ControlPlaneAddress, log: Logger, onRenewed: () => Promise<void>): void {
    const schedule = (delayMs: number) => {
      clearTimeout(this.#renewal);
      this.#renewal = setTimeout(run, Math.min(Math.max(delayMs, 0), 2 ** 31 - 1));
      this.#renewal.unref();
    };
    let failures = 0;
    const run = () => {
      this.renew(cp).then(
        async () => {
          failures = 0;
          log.info('certificate renewed', { expires: this.expiry() });
          await onRenewed();
          schedule(this.#halfLifeFromNow());
        },
        (err: unknown) => {
          failures++;
          const retryMs = Math.min(60_000, 1000 * 2 ** Math.min(failures, 6));
          log.warn('cannot renew the certificate; retrying', { error: (err as Error).message, retryMs });
          schedule(retryMs);
        },
      );
    };
    schedule(this.#halfLifeFromNow());
  }

  stop(): void {
    clearTimeout(this.#renewal);
  }

  /** A new trust bundle from the control plane (a root rotation): used for connections from now on. */
  useTrustBundle(pem: string): void {
    if (pem === this.#pem.ca) return;
    writeWhole(join(this.#dir, BUNDLE), pem, 0o644);
    this.#pem = { ...this.#pem, ca: pem };
  }

  pem(): { cert: string; key: string; ca: string } {
    return this.#pem;
  }

  version(): string {
    return createHash('sha256').update(this.#pem.cert).update(this.#pem.ca).digest('hex').slice(0, 16);
  }

  expiry(): string | undefined {
    return this.notAfter()?.toISOString();
  }

  notAfter(): Date | undefined {
    try {
      return new X509Certificate(this.#pem.cert).validToDate;
    } catch {
      return undefined;
    }
  }

  /**
   * True when the saved trust bundle holds the root a join token names: false after the control
   * plane's CA was replaced (its data reset), when the saved certificate can reach nothing.
   */
  async trustsTokenCa(token: string): Promise<boolean> {
    const { parseJoinToken } = await import('../identity/join-token-format.ts');
    const { caFingerprint } = parseJoinToken(token);
    return rootsOf(this.#pem.ca).some((der) => fingerprintOf(der) === caFingerprint);
  }

  spiffeId(): string {
    const san = new X509Certificate(this.#pem.cert).subjectAltName ?? '';
    const uri = san.split(', ').find((p) => p.startsWith('URI:spiffe://'));
    if (uri === undefined) throw new Error('the workload certificate has no SPIFFE ID');
    return uri.slice(4);
  }

  /**
   * Half of what is left of the certificate's life: half-life for one just issued (its notBefore is
   * backdated for clock skew, so it does not count), sooner for one read back after a restart.
   */
  #halfLifeFromNow(): number {
    const to = new X509Certificate(this.#pem.cert).validToDate.getTime();
    return (to - Date.now()) / 2;
  }

  #identity(): SavedIdentity {
    return {
      workload: this.workload,
      ...(this.autoRegister === undefined ? {} : { autoRegister: this.autoRegister }),
    };
  }

  static #save(
    dir: string,
    identity: SavedIdentity,
    pem: { cert: string; key: string; ca: string },
  ): WorkloadCertificate {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeWhole(join(dir, KEY), pem.key, 0o600);
    writeWhole(join(dir, CHAIN), pem.cert, 0o644);
    writeWhole(join(dir, BUNDLE), pem.ca, 0o644);
    writeWhole(join(dir, IDENTITY), JSON.stringify(identity), 0o644);
    return new WorkloadCertificate(dir, identity, pem);
  }
}

function writeWhole(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function rootsOf(bundle: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of bundle.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(m[0]).raw);
    } catch {
      // not a certificate: ignored
    }
  }
  return out;
}

function fingerprintOf(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** One JSON request to the mesh port; an error answer becomes an AlderError with its code and hint. */
function call(
  cp: ControlPlaneAddress,
  method: string,
  path: string,
  body: unknown,
  tls: { ca?: string; cert?: string; key?: string },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: cp.host,
        port: cp.port,
        method,
        path,
        agent: false,
        timeout: 10_000,
        minVersion: 'TLSv1.3',
        // Before the bundle is known nothing secret is sent; after, the server is verified against it.
        rejectUnauthorized: tls.ca !== undefined,
        ...(isIP(cp.host) === 0 ? { servername: cp.host } : {}),
        ...tls,
        headers: {
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) req.destroy(new Error('the control plane answered more than 1 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            reject(new Error(`the control plane answered ${res.statusCode} with a body that is not JSON`));
            return;
          }
          if ((res.statusCode ?? 500) >= 400) {
            const code = Object.values(ErrorCode).includes(parsed.code as ErrorCode)
              ? (parsed.code as ErrorCode)
              : ErrorCode.Internal;
            reject(
              new AlderError(code, String(parsed.message ?? `the control plane answered ${res.statusCode}`), {
                ...(typeof parsed.hint === 'string' ? { hint: parsed.hint } : {}),
              }),
            );
            return;
          }
          resolve(parsed);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from the control plane at ${cp.host}:${cp.port} within 10s`)),
    );
    req.on('error', (err) =>
      reject(
        err instanceof AlderError
          ? err
          : new AlderError(
              ErrorCode.ServerUnreachable,
              `cannot reach the control plane at ${cp.host}:${cp.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
              {
                hint: 'check --control-plane (the mesh port, 15012 by default)',
              },
            ),
      ),
    );
    req.end(payload);
  });
}

/** What the join request says about who joins. */
function joinBody(as: JoinAs): Record<string, unknown> {
  if ('workload' in as) return { workload: `${as.workload.namespace}/${as.workload.name}` };
  return {
    ...('run' in as
      ? { run: as.run, ...(as.appAddress === undefined ? {} : { appAddress: as.appAddress }) }
      : { workloadGroup: `${as.group.namespace}/${as.group.name}` }),
    ...(as.address === undefined ? {} : { address: as.address }),
    ...(as.labels === undefined ? {} : { labels: as.labels }),
  };
}
