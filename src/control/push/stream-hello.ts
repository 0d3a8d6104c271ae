// Who may speak for a workload on a stream. A hello without a proof speaks as the connection's
// client certificate (a sidecar's stream). A hello with a proof speaks as the proof's certificate
// once its chain leads to the mesh's roots and its key signed this connection's keying material
// (a node proxy's one stream, see src/wire/stream-proof.ts). The distributor calls these before a
// session opens, so a refused hello touches no workload's state.

import { AlderError, ErrorCode, type Resource, type WorkloadEntrySpec } from '../../config/index.ts';
import { parseSpiffeId, verifyLeaf } from '../../identity/index.ts';
import { type Hello, isStreamProofSigned, type KnownVersions, RESOURCE_TYPES } from '../../wire/index.ts';

/** A hello as the proxy said it, or why it cannot be read: `workload` must name one. */
export function readHello(said: unknown): Hello | string {
  if (typeof said !== 'object' || said === null) return 'a hello that is not an object';
  const w = (said as { workload?: unknown }).workload;
  if (workloadKey(w) === undefined) return 'a hello that names no workload';
  return said as Hello;
}

/** `namespace/name` of a message's workload, or undefined when it names none. */
export function workloadKey(w: unknown): string | undefined {
  if (typeof w !== 'object' || w === null) return undefined;
  const { namespace, name } = w as { namespace?: unknown; name?: unknown };
  if (typeof namespace !== 'string' || typeof name !== 'string' || namespace === '' || name === '')
    return undefined;
  return `${namespace}/${name}`;
}

/**
 * The SPIFFE ID a hello's proof establishes on the connection whose keying material is `material`.
 * Throws ALDER_FORBIDDEN saying why the proof is refused.
 */
export function provenIdentity(proof: unknown, material: Buffer | undefined, bundlePem: string): string {
  const refuse = (why: string) =>
    new AlderError(ErrorCode.Forbidden, `proof refused: ${why}`, {
      hint: 'the node proxy signs each hello with the workload’s own key on the connection it says it on',
    });
  if (material === undefined) throw refuse('this connection has no keying material to prove on');
  const { certificateChain, signature } = (proof ?? {}) as {
    certificateChain?: unknown;
    signature?: unknown;
  };
  if (typeof certificateChain !== 'string' || typeof signature !== 'string')
    throw refuse('a proof needs certificateChain and signature strings');
  let leaf: ReturnType<typeof verifyLeaf>;
  try {
    leaf = verifyLeaf(certificateChain, bundlePem);
  } catch (err) {
    throw refuse((err as Error).message);
  }
  if (!isStreamProofSigned(leaf.leaf.publicKey, material, signature))
    throw refuse(`the signature is not ${leaf.spiffeId}'s over this connection's keying material`);
  return leaf.spiffeId;
}

/**
 * Why `spiffeId` may not speak for the workload of `entry`, or undefined when its namespace and
 * service account are the entry's. The exact SPIFFE ID (trust domain included) is checked again
 * against the compiled `proxy` resource before anything is pushed.
 */
export function identityRefusal(
  spiffeId: string,
  entry: Resource<WorkloadEntrySpec>,
  workload: string,
): string | undefined {
  const id = parseSpiffeId(spiffeId);
  const namespace = entry.metadata.namespace ?? 'default';
  const account = entry.spec?.serviceAccount || 'default';
  if (id?.namespace === namespace && id.serviceAccount === account) return undefined;
  return `the certificate names ${spiffeId}, but WorkloadEntry ${workload} runs as service account ${account}`;
}

/** What a hello says the proxy holds, kept only where it is names → version strings (it is the proxy's word). */
export function knownOf(said: unknown): KnownVersions {
  const known: KnownVersions = {};
  if (typeof said !== 'object' || said === null) return known;
  for (const type of RESOURCE_TYPES) {
    const m: unknown = (said as Record<string, unknown>)[type];
    if (typeof m !== 'object' || m === null) continue;
    const versions: Record<string, string> = {};
    for (const [name, version] of Object.entries(m))
      if (typeof version === 'string') versions[name] = version;
    known[type] = versions;
  }
  return known;
}
