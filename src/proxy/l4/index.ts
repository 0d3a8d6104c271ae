// Public face of the byte-level helpers: the relay between two streams, the TLS ClientHello peek,
// and protocol detection.

export { peekClientHello } from './client-hello.ts';
export { detectProtocol } from './detect.ts';
export { relay } from './relay.ts';
