// A process's TCP sockets as Linux sees them: which of its file descriptors are sockets
// (/proc/PID/fd) and each one's state and addresses (/proc/PID/net/tcp, tcp6). The connection tests
// count what a proxy still holds with it (CLOSE-WAIT sockets, connections on one port).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface TcpSocket {
  /** ESTABLISHED, CLOSE_WAIT, LISTEN … as `ss` names them. */
  state: string;
  /** `address:port`. */
  local: string;
  remote: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** Every TCP socket process `pid` holds open. */
export function tcpSocketsOf(pid: number): TcpSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m !== null) inodes.add(m[1] as string);
  }
  const out: TcpSocket[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9] as string)) continue;
      const state = f[3] as string;
      out.push({
        state: STATES[state] ?? state,
        local: address(f[1] as string),
        remote: address(f[2] as string),
      });
    }
  }
  return out;
}

/** How many of `pid`'s sockets are in `state` with local address `local` (`address:port`). */
export function countSockets(pid: number, state: string, local: string): number {
  return tcpSocketsOf(pid).filter((s) => s.state === state && s.local === local).length;
}

/** `0100007F:1F90` → `127.0.0.1:8080` (IPv4, and IPv4-mapped IPv6). */
function address(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  const v4 = ip.length === 8 ? ip : ip.slice(24);
  const bytes = (v4.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)).reverse();
  return `${bytes.join('.')}:${Number.parseInt(port, 16)}`;
}
