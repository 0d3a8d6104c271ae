// The mesh CA: signs workload certificates for exactly the SPIFFE ID it is told to, and the control
// plane's serving certificate. Its root is its own (generated on first start, rotatable) or an
// operator's plug-in CA. The join endpoint and the stream decide who may ask; the CA only signs.

import { createHash, createPublicKey, type X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/core.ts';
import { type PreviousRoot, ROOT_CERT, readPreviousRoots, writeNextRoot, writeRoot } from './ca-files.ts';
import {
  CLOCK_SKEW_MS,
  createRoot,
  finishRotation,
  loadPlugin,
  loadRoot,
  type Signer,
  serialNumber,
  signerOf,
} from './ca-roots.ts';
import { readCsr } from './csr.ts';
import { generateKeyPair } from './keys.ts';
import { type WorkloadIdentity, workloadSpiffeId } from './spiffe-id.ts';
import { x509 } from './x509-lib.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
export const DEFAULT_WORKLOAD_TTL_MS = 24 * HOUR_MS;
export const DEFAULT_SERVER_TTL_MS = 30 * DAY_MS;
/** How long a replaced root stays trusted by default: two leaf lifetimes, at least 48 h. */
const MIN_ROOT_OVERLAP_MS = 48 * HOUR_MS;
const CONTROL_PLANE_IDENTITY = { namespace: 'alder-system', serviceAccount: 'control-plane' };

export interface CertificateAuthorityOptions {
  /** Folder of the CA's own root (`<dataDir>/ca`); created with mode 0700 if missing. */
  dir: string;
  /** e.g. `cluster.local` */
  trustDomain: string;
  /** Folder of an operator's CA (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); `dir` is then unused. */
  pluginDir?: string;
  /** Default lifetime of workload certificates, ms (24 h). */
  workloadTtlMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface IssuedCertificate {
  /** The leaf alone, PEM. */
  certPem: string;
  /** The leaf then every intermediate up to (not including) the root, PEM. */
  chainPem: string;
  notAfter: Date;
  spiffeId: string;
}

export interface IssuedServerCertificate extends IssuedCertificate {
  /** PKCS#8 PEM of the key made for this certificate. */
  keyPem: string;
}

export class CertificateAuthority {
  readonly trustDomain: string;
  /** `self-signed` (its own root, in `dir`) or `plugin` (an operator's CA). */
  readonly mode: 'self-signed' | 'plugin';
  readonly #dir: string;
  readonly #now: () => number;
  readonly #workloadTtlMs: number;
  #signer: Signer;
  #roots: X509Certificate[];
  #previous: PreviousRoot[];

  private constructor(
    options: CertificateAuthorityOptions,
    signer: Signer,
    roots: X509Certificate[],
    previous: PreviousRoot[],
  ) {
    this.trustDomain = options.trustDomain;
    this.mode = options.pluginDir === undefined ? 'self-signed' : 'plugin';
    this.#dir = options.pluginDir ?? options.dir;
    this.#now = options.now ?? Date.now;
    this.#workloadTtlMs = options.workloadTtlMs ?? DEFAULT_WORKLOAD_TTL_MS;
    this.#signer = signer;
    this.#roots = roots;
    this.#previous = previous;
  }

  /** Loads the CA, generating its root on first start. Throws ALDER_CA_INVALID naming the file at fault. */
  static async open(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    workloadSpiffeId(options.trustDomain, CONTROL_PLANE_IDENTITY); // checks the trust domain
    const now = options.now ?? Date.now;
    if (options.pluginDir !== undefined) {
      const { signer, roots } = await loadPlugin(options.pluginDir, now());
      return new CertificateAuthority(options, signer, roots, []);
    }
    const dir = options.dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    finishRotation(dir, now());
    let pair = loadRoot(dir);
    if (pair === undefined) {
      pair = await createRoot(options.trustDomain, now());
      writeRoot(dir, pair);
    }
    const signer = await signerOf(pair, '', join(dir, ROOT_CERT));
    const previous = readPreviousRoots(dir).filter((p) => p.trustedUntil.getTime() > now());
    return new CertificateAuthority(options, signer, [signer.cert], previous);
  }

  /**
   * Signs the CSR for exactly `identity`'s SPIFFE ID: the CSR must ask for that one URI SAN and
   * nothing else, or for no name at all (the CA then names the identity it was told). `ttlMs` (default 24 h) is clamped to the CA certificate's own validity.
   */
  async issueWorkload(
    csrPem: string,
    identity: WorkloadIdentity,
    ttlMs?: number,
  ): Promise<IssuedCertificate> {
    const spiffeId = workloadSpiffeId(this.trustDomain, identity);
    const csr = await readCsr(csrPem);
    const asksNothing = csr.uris.length === 0 && csr.otherNames.length === 0;
    if (!asksNothing && (csr.uris.length !== 1 || csr.uris[0] !== spiffeId || csr.otherNames.length > 0)) {
      const asked = [...csr.uris, ...csr.otherNames].join(', ') || 'no SAN';
      throw new AlderError(
        ErrorCode.CsrInvalid,
        `invalid CSR: it asks for ${asked}; this request may only ask for ${spiffeId}`,
        {
          hint: 'build the CSR for the identity being joined, with its SPIFFE ID as the only SAN',
          details: { requested: [...csr.uris, ...csr.otherNames], allowed: spiffeId },
        },
      );
    }
    const leaf = await this.#sign({
      publicKey: csr.request.publicKey,
      ttlMs: ttlMs ?? this.#workloadTtlMs,
      names: [{ type: 'url', value: spiffeId }],
      serverOnly: false,
    });
    return { ...leaf, spiffeId };
  }

  /** A fresh key and a serving certificate for the control plane: the given DNS names and IPs, plus its SPIFFE ID. */
  async issueServer(options: {
    dns?: string[];
    ips?: string[];
    ttlMs?: number;
  }): Promise<IssuedServerCertificate> {
    const spiffeId = workloadSpiffeId(this.trustDomain, CONTROL_PLANE_IDENTITY);
    const { privateKeyPem, publicKeyPem } = generateKeyPair();
    const publicKey = new x509.PublicKey(
      createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }),
    );
    const names = [
      ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
      { type: 'url' as const, value: spiffeId },
    ];
    const leaf = await this.#sign({
      publicKey,
      ttlMs: options.ttlMs ?? DEFAULT_SERVER_TTL_MS,
      names,
      serverOnly: false,
    });
    return { ...leaf, spiffeId, keyPem: privateKeyPem };
  }

  /** PEM of every root trusted now: the current root(s), then previous roots still in their overlap. */
  trustBundle(): string {
    const now = this.#now();
    const previous = this.#previous.filter((p) => p.trustedUntil.getTime() > now).map((p) => p.certPem);
    return [...this.#roots.map((r) => r.toString()), ...previous]
      .map((p) => (p.endsWith('\n') ? p : `${p}\n`))
      .join('');
  }

  /** `sha256:<hex>` of the current root's DER, as a join token carries it. */
  fingerprint(): string {
    return `sha256:${createHash('sha256')
      .update((this.#roots[0] as X509Certificate).raw)
      .digest('hex')}`;
  }

  /** When the CA certificate that signs now stops being valid. */
  get signerNotAfter(): Date {
    return this.#signer.cert.validToDate;
  }

  /**
   * Replaces the root with a new one. New certificates are signed by the new root; the old root
   * stays in the trust bundle until `overlapMs` has passed (default: twice the workload lifetime,
   * at least 48 h) or its own expiry, whichever is sooner. Only for the CA's own root: an operator
   * rotates a plug-in CA by replacing its files.
   */
  async rotateRoot(options: { overlapMs?: number } = {}): Promise<void> {
    if (this.mode === 'plugin') {
      throw new AlderError(
        ErrorCode.CaInvalid,
        `the CA in ${this.#dir} is an operator's plug-in CA: Alder does not rotate it`,
        {
          hint: 'replace ca-cert.pem, ca-key.pem, cert-chain.pem and root-cert.pem (keeping the old root in root-cert.pem during the overlap), then restart',
        },
      );
    }
    const now = this.#now();
    const overlapMs = options.overlapMs ?? Math.max(MIN_ROOT_OVERLAP_MS, 2 * this.#workloadTtlMs);
    const old = this.#signer.cert;
    const trustedUntil = new Date(Math.min(now + overlapMs, old.validToDate.getTime()));
    const next = await createRoot(this.trustDomain, now);
    writeNextRoot(this.#dir, next, trustedUntil);
    finishRotation(this.#dir, now);
    this.#signer = await signerOf(next, '', join(this.#dir, ROOT_CERT));
    this.#roots = [this.#signer.cert];
    this.#previous = readPreviousRoots(this.#dir).filter((p) => p.trustedUntil.getTime() > now);
  }

  async #sign(o: {
    publicKey: InstanceType<typeof x509.PublicKey>;
    ttlMs: number;
    names: { type: 'url' | 'dns' | 'ip'; value: string }[];
    serverOnly: boolean;
  }): Promise<Omit<IssuedCertificate, 'spiffeId'>> {
    if (!Number.isFinite(o.ttlMs) || o.ttlMs <= 0) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `certificate lifetime must be positive, got ${o.ttlMs} ms`,
      );
    }
    const now = this.#now();
    const signer = this.#signer;
    // Whole seconds, as the certificate encodes them.
    const notAfter = new Date(
      Math.floor(Math.min(now + o.ttlMs, signer.cert.validToDate.getTime()) / 1000) * 1000,
    );
    const notBefore = new Date(
      Math.ceil(Math.max(now - CLOCK_SKEW_MS, signer.cert.validFromDate.getTime()) / 1000) * 1000,
    );
    if (notAfter.getTime() <= now) {
      throw new AlderError(
        ErrorCode.CaInvalid,
        `the CA certificate expired at ${signer.cert.validToDate.toISOString()}`,
        {
          hint: this.mode === 'plugin' ? 'replace the plug-in CA files and restart' : 'rotate the root',
        },
      );
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: '',
      issuer: signer.name,
      notBefore,
      notAfter,
      publicKey: o.publicKey,
      signingKey: signer.key.key,
      signingAlgorithm: signer.key.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(o.names, true),
        await x509.AuthorityKeyIdentifierExtension.create(signer.issuerCert.publicKey),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    return { certPem, chainPem: certPem + signer.intermediatesPem, notAfter };
  }
}
