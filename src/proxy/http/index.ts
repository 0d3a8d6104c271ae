// Public face of the protocol-neutral HTTP messages the pipeline passes between codecs and router.

export {
  type BodyFraming,
  type IncomingRequest,
  isH2Protocol,
  type OutgoingRequest,
  type ResponseHead,
} from './http-message.ts';
