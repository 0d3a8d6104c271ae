// Public face of the protocol-neutral HTTP messages the pipeline passes between codecs and router,
// and the normalization of their paths (MeshConfig pathNormalization).

export {
  type BodyFraming,
  type IncomingRequest,
  isH2Protocol,
  type OutgoingRequest,
  type ResponseHead,
} from './http-message.ts';
export {
  type PathNormalization,
  type PathNormalizer,
  type PathRefusal,
  pathNormalizer,
} from './normalize-path.ts';
