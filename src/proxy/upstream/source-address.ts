// The address a proxy's mTLS connections to its mesh peers leave from. Workloads sharing one machine
// each have a loopback address of their own (127.77.0.5); left to the kernel, a connection to another
// loopback address leaves from 127.0.0.1, and the peer sees the wrong caller. A workload on a host
// address keeps the kernel's choice, which routing knows better. Decided once per runtime; each new
// connection only checks its destination.

import { isIPv4 } from 'node:net';

/**
 * The workload's own address when it is a loopback address other than 127.0.0.1 (connections to loopback
 * peers then leave from it), else undefined: the kernel chooses.
 */
export function peerSourceAddress(workloadAddress: string): string | undefined {
  return isLoopbackV4(workloadAddress) && workloadAddress !== '127.0.0.1' ? workloadAddress : undefined;
}

/**
 * The local address for one connection to `destination`: the runtime's `source` when the destination
 * is on loopback too (a peer on this machine), else undefined. Binding an address before connecting
 * takes an ephemeral port of its own (about 28,000 per address), ample for one workload's peers.
 */
export function localAddressTowards(source: string | undefined, destination: string): string | undefined {
  return source !== undefined && isLoopbackV4(destination) ? source : undefined;
}

function isLoopbackV4(address: string): boolean {
  return address.startsWith('127.') && isIPv4(address);
}
