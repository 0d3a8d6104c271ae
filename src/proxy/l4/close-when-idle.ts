// Connections that can end cleanly when asked. A listener that stops taking traffic (a workload
// draining) asks each connection it accepted to close once idle: an HTTP/1 connection after the
// response in progress (or at once when none is), an HTTP/2 session with GOAWAY, its open streams
// finishing first. Without it an idle keep-alive connection would hold the drain until cut.

/** socket → how its connection closes once idle. */
const closers = new WeakMap<object, () => void>();
/** A socket layered over another (TLS over TCP, a tunnel's stream) → the one under it. */
const under = new WeakMap<object, object>();

/** `upper` carries the connection accepted as `lower` (a TLSSocket over the TCP socket). */
export function layeredOver(upper: object, lower: object): void {
  under.set(upper, lower);
}

/** Says how the connection on `socket` (or on the socket under it) closes once idle. */
export function onCloseWhenIdle(socket: object, close: () => void): void {
  let s = socket;
  for (let next = under.get(s); next !== undefined; next = under.get(s)) s = next;
  closers.set(s, close);
}

/** Asks the connection accepted as `socket` to close once idle; false when it cannot be asked. */
export function closeWhenIdle(socket: object): boolean {
  const close = closers.get(socket);
  close?.();
  return close !== undefined;
}
