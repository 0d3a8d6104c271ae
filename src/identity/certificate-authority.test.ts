// The mesh CA checked by the real openssl binary: chains verify, SANs and lifetimes are as issued,
// the key file is private, an operator's intermediate CA signs, and a rotation keeps old leafs trusted.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CertificateAuthority, createKeyAndCsr, verifyLeaf } from './index.ts';

const HOUR_MS = 3_600_000;
const TD = 'cluster.local';
const REVIEWS = { namespace: 'default', serviceAccount: 'reviews' };
const REVIEWS_ID = 'spiffe://cluster.local/ns/default/sa/reviews';

const root = mkdtempSync(join(tmpdir(), 'alder-ca-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = () => join(root, `t${n++}`);

function openssl(args: string[], cwd = root): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function write(name: string, text: string): string {
  const path = join(root, `${n++}-${name}`);
  writeFileSync(path, text);
  return path;
}

async function issue(ca: CertificateAuthority, ttlMs?: number) {
  const { csrPem } = await createKeyAndCsr(REVIEWS_ID);
  return ca.issueWorkload(csrPem, REVIEWS, ttlMs);
}

describe('CertificateAuthority', () => {
  it('own root: openssl verifies the chain, sees the URI SAN, usages and a 24 h lifetime', async () => {
    const ca = await CertificateAuthority.open({ dir: folder(), trustDomain: TD });
    const before = Date.now();
    const leaf = await issue(ca);
    const bundle = write('bundle.pem', ca.trustBundle());
    const chain = write('chain.pem', leaf.chainPem);
    assert.match(openssl(['verify', '-CAfile', bundle, chain]), /: OK$/m, 'want openssl verify to pass');
    const san = openssl(['x509', '-in', chain, '-noout', '-ext', 'subjectAltName']);
    assert.match(san, new RegExp(`URI:${REVIEWS_ID}\\s*$`), `want the SPIFFE URI SAN alone, got ${san}`);
    const usage = openssl([
      'x509',
      '-in',
      chain,
      '-noout',
      '-ext',
      'keyUsage,extendedKeyUsage,basicConstraints',
    ]);
    assert.match(usage, /Digital Signature, Key Encipherment/, `want keyUsage, got ${usage}`);
    assert.match(
      usage,
      /TLS Web Server Authentication, TLS Web Client Authentication/,
      `want both EKUs, got ${usage}`,
    );
    assert.match(usage, /CA:FALSE/, `want a non-CA leaf, got ${usage}`);
    const dates = openssl(['x509', '-in', chain, '-noout', '-startdate', '-enddate']);
    const notBefore = Date.parse(/notBefore=(.+)/.exec(dates)?.[1] ?? '');
    const notAfter = Date.parse(/notAfter=(.+)/.exec(dates)?.[1] ?? '');
    assert.ok(
      Math.abs(notAfter - (before + 24 * HOUR_MS)) < 5_000,
      `want notAfter 24 h from now, got ${dates}`,
    );
    assert.ok(
      before - notBefore >= 55_000 && before - notBefore < 66_000,
      `want notBefore a minute back, got ${dates}`,
    );
    assert.equal(leaf.notAfter.getTime(), notAfter, 'want notAfter returned as issued');
    assert.deepEqual(
      { spiffeId: verifyLeaf(leaf.chainPem, ca.trustBundle()).spiffeId },
      { spiffeId: REVIEWS_ID },
    );
  });

  it('own root: key file is mode 0600, root is CA:TRUE with keyCertSign, and survives a restart', async () => {
    const dir = folder();
    const ca = await CertificateAuthority.open({ dir, trustDomain: TD });
    assert.equal(statSync(join(dir, 'root-key.pem')).mode & 0o777, 0o600, 'want root-key.pem mode 0600');
    const ext = openssl([
      'x509',
      '-in',
      join(dir, 'root-cert.pem'),
      '-noout',
      '-ext',
      'basicConstraints,keyUsage',
      '-enddate',
    ]);
    assert.match(ext, /CA:TRUE/, `want CA:TRUE, got ${ext}`);
    assert.match(ext, /Certificate Sign/, `want keyCertSign, got ${ext}`);
    const years = (Date.parse(/notAfter=(.+)/.exec(ext)?.[1] ?? '') - Date.now()) / (365 * 24 * HOUR_MS);
    assert.ok(years > 9.9 && years < 10.1, `want a 10-year root, got ${years.toFixed(2)} years`);
    const again = await CertificateAuthority.open({ dir, trustDomain: TD });
    assert.equal(again.fingerprint(), ca.fingerprint(), 'want the same root after a restart');
    assert.match(ca.fingerprint(), /^sha256:[0-9a-f]{64}$/);
    const der = openssl(['x509', '-in', join(dir, 'root-cert.pem'), '-noout', '-fingerprint', '-sha256']);
    assert.equal(ca.fingerprint().slice(7), /=(.+)/.exec(der)?.[1]?.replace(/:/g, '').toLowerCase());
  });

  it('issueWorkload: refuses a CSR that asks for another identity, or for more than it', async () => {
    const ca = await CertificateAuthority.open({ dir: folder(), trustDomain: TD });
    const cases = [
      { name: 'another service account', id: 'spiffe://cluster.local/ns/default/sa/ratings' },
      { name: 'another trust domain', id: 'spiffe://evil.example/ns/default/sa/reviews' },
    ];
    for (const c of cases) {
      const { csrPem } = await createKeyAndCsr(c.id);
      await assert.rejects(ca.issueWorkload(csrPem, REVIEWS), (err: { code?: string; message?: string }) => {
        assert.equal(err.code, 'ALDER_CSR_INVALID', `${c.name}: want ALDER_CSR_INVALID`);
        assert.match(
          err.message ?? '',
          /may only ask for spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews/,
        );
        return true;
      });
    }
    const key = write('extra-key.pem', (await createKeyAndCsr(REVIEWS_ID)).keyPem);
    const extra = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/O=x',
      '-addext',
      `subjectAltName=URI:${REVIEWS_ID},DNS:admin.example`,
    ]);
    await assert.rejects(ca.issueWorkload(extra, REVIEWS), /asks for .*dns:admin\.example/);
  });

  it('issueWorkload: refuses malformed CSRs with ALDER_CSR_INVALID', async () => {
    const ca = await CertificateAuthority.open({ dir: folder(), trustDomain: TD });
    const { csrPem } = await createKeyAndCsr(REVIEWS_ID);
    const body = csrPem.split('\n');
    const mid = Math.floor(body.length / 2);
    const line = body[mid] as string;
    body[mid] = (line[0] === 'A' ? 'B' : 'A') + line.slice(1);
    const cases = [
      { name: 'empty', csr: '', want: /empty/ },
      { name: 'not PEM', csr: 'hello', want: /exactly one PEM/ },
      { name: 'a certificate', csr: ca.trustBundle(), want: /exactly one PEM/ },
      { name: 'tampered', csr: body.join('\n'), want: /signature|not a PKCS#10|does not parse/ },
    ];
    for (const c of cases) {
      await assert.rejects(ca.issueWorkload(c.csr, REVIEWS), (err: { code?: string; message?: string }) => {
        assert.equal(
          err.code,
          'ALDER_CSR_INVALID',
          `${c.name}: want ALDER_CSR_INVALID, got ${err.code}: ${err.message}`,
        );
        assert.match(err.message ?? '', c.want, `${c.name}: message`);
        return true;
      });
    }
  });

  it('issueServer: DNS and IP SANs plus the control plane SPIFFE ID, and openssl verifies it', async () => {
    const ca = await CertificateAuthority.open({ dir: folder(), trustDomain: TD });
    const server = await ca.issueServer({ dns: ['alder-cp.local', 'localhost'], ips: ['127.0.0.1'] });
    const chain = write('server.pem', server.chainPem);
    assert.match(
      openssl(['verify', '-CAfile', write('b.pem', ca.trustBundle()), '-purpose', 'sslserver', chain]),
      /OK/,
    );
    const san = openssl(['x509', '-in', chain, '-noout', '-ext', 'subjectAltName']);
    assert.match(
      san,
      /DNS:alder-cp\.local, DNS:localhost, IP Address:127\.0\.0\.1, URI:spiffe:\/\/cluster\.local\/ns\/alder-system\/sa\/control-plane/,
    );
    const key = write('server-key.pem', server.keyPem);
    assert.equal(
      openssl(['pkey', '-in', key, '-pubout']),
      openssl(['x509', '-in', chain, '-noout', '-pubkey']),
      'want the key returned to be the key certified',
    );
  });

  it('lifetime: a requested ttl is used, and clamped to the CA certificate validity', async () => {
    const ca = await CertificateAuthority.open({ dir: folder(), trustDomain: TD });
    const hour = await issue(ca, HOUR_MS);
    assert.ok(Math.abs(hour.notAfter.getTime() - Date.now() - HOUR_MS) < 5_000, 'want a 1 h leaf');
    const long = await issue(ca, 100 * 365 * 24 * HOUR_MS);
    assert.equal(
      long.notAfter.getTime(),
      ca.signerNotAfter.getTime(),
      'want a leaf no longer lived than its CA',
    );
  });

  it('plug-in CA: an operator intermediate signs, and the chain carries it to the root', async () => {
    const dir = folder();
    const cwd = root;
    const p = (f: string) => join(dir, f);
    execFileSync('mkdir', ['-p', dir]);
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/O=operator/CN=root',
        '-keyout',
        p('root-key.pem'),
        '-out',
        p('root-cert.pem'),
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      cwd,
    );
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/O=operator/CN=intermediate',
        '-keyout',
        p('ca-key.pem'),
        '-out',
        p('ca.csr'),
      ],
      cwd,
    );
    writeFileSync(
      p('ext'),
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        p('ca.csr'),
        '-CA',
        p('root-cert.pem'),
        '-CAkey',
        p('root-key.pem'),
        '-CAcreateserial',
        '-days',
        '20',
        '-extfile',
        p('ext'),
        '-out',
        p('ca-cert.pem'),
      ],
      cwd,
    );
    writeFileSync(
      p('cert-chain.pem'),
      readFileSync(p('ca-cert.pem'), 'utf8') + readFileSync(p('root-cert.pem'), 'utf8'),
    );
    rmSync(p('root-key.pem'));

    const ca = await CertificateAuthority.open({ dir: folder(), pluginDir: dir, trustDomain: TD });
    assert.equal(ca.mode, 'plugin');
    assert.equal(
      ca.trustBundle().trim(),
      readFileSync(p('root-cert.pem'), 'utf8').trim(),
      "want the operator's root as the bundle",
    );
    const leaf = await issue(ca);
    assert.equal(
      (leaf.chainPem.match(/BEGIN CERTIFICATE/g) ?? []).length,
      2,
      'want leaf + intermediate in the chain',
    );
    assert.match(
      openssl([
        'verify',
        '-CAfile',
        p('root-cert.pem'),
        '-untrusted',
        write('chain.pem', leaf.chainPem),
        write('leaf.pem', leaf.certPem),
      ]),
      /OK/,
    );
    assert.equal(verifyLeaf(leaf.chainPem, ca.trustBundle()).spiffeId, REVIEWS_ID);
    assert.ok(leaf.notAfter <= ca.signerNotAfter);
    await assert.rejects(ca.rotateRoot(), { code: 'ALDER_CA_INVALID' });

    writeFileSync(p('ca-key.pem'), (await createKeyAndCsr(REVIEWS_ID)).keyPem);
    await assert.rejects(CertificateAuthority.open({ dir: folder(), pluginDir: dir, trustDomain: TD }), {
      code: 'ALDER_CA_INVALID',
      message: /ca-key\.pem is not the key of .*ca-cert\.pem/,
    });
    rmSync(p('cert-chain.pem'));
    await assert.rejects(CertificateAuthority.open({ dir: folder(), pluginDir: dir, trustDomain: TD }), {
      code: 'ALDER_CA_INVALID',
      message: /misses cert-chain\.pem/,
    });
  });

  it('rotateRoot: new leafs come from the new root; old leafs verify with the bundle until the overlap ends', async () => {
    const dir = folder();
    let now = Date.now();
    const ca = await CertificateAuthority.open({ dir, trustDomain: TD, now: () => now });
    const oldFingerprint = ca.fingerprint();
    const oldLeaf = await issue(ca, HOUR_MS);
    await ca.rotateRoot({ overlapMs: 2 * HOUR_MS });
    assert.notEqual(ca.fingerprint(), oldFingerprint, 'want a new root');
    const newLeaf = await issue(ca, HOUR_MS);
    const bundle = ca.trustBundle();
    assert.equal((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'want both roots in the bundle');
    const bundleFile = write('bundle.pem', bundle);
    for (const [name, leaf] of [
      ['old', oldLeaf],
      ['new', newLeaf],
    ] as const) {
      assert.match(
        openssl(['verify', '-CAfile', bundleFile, write('leaf.pem', leaf.chainPem)]),
        /OK/,
        `${name} leaf`,
      );
      assert.equal(verifyLeaf(leaf.chainPem, bundle, new Date(now)).spiffeId, REVIEWS_ID, `${name} leaf`);
    }
    const newRootOnly = readFileSync(join(dir, 'root-cert.pem'), 'utf8');
    assert.throws(() => verifyLeaf(oldLeaf.chainPem, newRootOnly), {
      code: 'ALDER_CERTIFICATE_INVALID',
      message: /not issued by any trusted root/,
    });

    const reopened = await CertificateAuthority.open({ dir, trustDomain: TD, now: () => now });
    assert.equal(reopened.trustBundle(), bundle, 'want the overlap kept across a restart');
    now += 2 * HOUR_MS + 1;
    assert.equal(
      (ca.trustBundle().match(/BEGIN CERTIFICATE/g) ?? []).length,
      1,
      'want the old root dropped after the overlap',
    );
  });

  it('rotateRoot: a rotation cut short after staging is finished on the next start', async () => {
    const dir = folder();
    const ca = await CertificateAuthority.open({ dir, trustDomain: TD });
    const oldLeaf = await issue(ca);
    const stagedDir = folder();
    const staged = await CertificateAuthority.open({ dir: stagedDir, trustDomain: TD });
    const until = new Date(Date.now() + HOUR_MS).toISOString();
    const stage = `Previous-Trusted-Until: ${until}\n${readFileSync(join(stagedDir, 'root-key.pem'), 'utf8')}${readFileSync(join(stagedDir, 'root-cert.pem'), 'utf8')}`;
    writeFileSync(join(dir, 'root-next.pem'), stage, { mode: 0o600 });
    const restarted = await CertificateAuthority.open({ dir, trustDomain: TD });
    assert.equal(restarted.fingerprint(), staged.fingerprint(), 'want the staged root installed');
    assert.equal(existsSync(join(dir, 'root-next.pem')), false, 'want the stage removed');
    assert.equal(
      verifyLeaf(oldLeaf.chainPem, restarted.trustBundle()).spiffeId,
      REVIEWS_ID,
      'want the old root still trusted',
    );
    assert.match(
      readFileSync(join(dir, 'previous-roots.pem'), 'utf8'),
      new RegExp(`^Trusted-Until: ${until}`),
    );
    assert.notEqual(ca.fingerprint(), restarted.fingerprint());
  });
});
