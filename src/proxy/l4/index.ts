// Public face of the byte-level helpers: the relay between two streams, the TLS ClientHello peek,
// protocol detection, and the HTTP/2 preface sniff.

export { peekClientHello } from './client-hello.ts';
export { closeWhenIdle, layeredOver, onCloseWhenIdle } from './close-when-idle.ts';
export { detectProtocol } from './detect.ts';
export { type PrefaceVerdict, sniffH2Preface } from './h2-preface.ts';
export { relay } from './relay.ts';
