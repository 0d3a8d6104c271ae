// Where a workload under `alder run` lives on its host. On a machine shared by several workloads each
// takes a loopback address of its own, as if it were a host: its proxy binds the workload address
// (inbound ports, the tunnel, the app's HTTP_PROXY, the admin port), and its app listens on an
// address of its own, so two apps may both serve port 9080. Across machines the workload address is
// the host's, and the app listens on 127.0.0.1 as it would beside any sidecar.

import { once } from 'node:events';
import { createServer, isIP } from 'node:net';

/** Where `alder run` looks for a free workload address when none is given: 127.77.0.1 … 127.77.0.254. */
const AUTO_PREFIX = '127.77.0.';

export function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

/**
 * The app's address for a workload at `address`: 127.0.0.1 for a host address; for a loopback one,
 * the same address with 100 added to its second number (127.0.20.5 → 127.100.20.5), so that it is
 * free whatever the workload addresses are, and its owner is plain to see.
 */
export function appAddressFor(address: string): string {
  if (!isLoopback(address) || isIP(address) !== 4) return '127.0.0.1';
  const [, second, third, fourth] = address.split('.').map(Number) as [number, number, number, number];
  return `127.${(second + 100) % 256}.${third}.${fourth}`;
}

/** True when nothing listens on `address:port` (it can be bound now). */
export async function isFree(address: string, port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, address);
  const outcome = await Promise.race([
    once(server, 'listening').then(() => true),
    once(server, 'error').then(() => false),
  ]);
  if (outcome) await new Promise<void>((resolve) => server.close(() => resolve()));
  return outcome;
}

/**
 * An address of 127.77.0.1 … 127.77.0.254 whose `ports` (the tunnel and the HTTP_PROXY port, say)
 * are all free, tried from a random place. Two runs starting at the same instant pick the same one
 * once in 254 times: the second then fails to bind, with the address in its message.
 */
export async function pickWorkloadAddress(ports: readonly number[]): Promise<string> {
  // Tried from a random place: runs started together rarely try the same address first.
  const start = Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const address = `${AUTO_PREFIX}${((start + i) % 254) + 1}`;
    let free = true;
    for (const port of ports) {
      if (!(await isFree(address, port))) {
        free = false;
        break;
      }
    }
    if (free) return address;
  }
  throw new Error(`no free workload address in ${AUTO_PREFIX}1-254: give one with --address`);
}
