// Public face of the wire format: the snapshot types both sides share, and their codec.

export * from './authorization.ts';
export type * from './clusters.ts';
export { checkSnapshot, decodeSnapshot, encodeSnapshot } from './codec.ts';
export type * from './probe.ts';
export type * from './proxy-status.ts';
export type * from './request-authentication.ts';
export * from './resources.ts';
export type * from './routes.ts';
export { EGRESS_SCOPE_LIMITS } from './routes.ts';
export type * from './snapshot.ts';
export { WIRE_VERSION } from './snapshot.ts';
export * from './stream.ts';
export {
  isStreamProofSigned,
  STREAM_PROOF_LABEL,
  signStreamProof,
  streamProofMaterial,
} from './stream-proof.ts';
