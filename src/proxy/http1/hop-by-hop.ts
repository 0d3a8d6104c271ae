// Removes hop-by-hop fields (RFC 9110 §7.6.1) before a message is forwarded: the connection manager calls
// it on every request and response head. Pure; it returns its input untouched when nothing must go.

import { tokenList } from './framing.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Never stripped because Connection names them (the parsers refuse such messages anyway). */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * `headers` (`[name, value, ...]`, lower-case names as the parsers give them) without Connection,
 * Keep-Alive, Proxy-Connection, Trailer, Transfer-Encoding, TE (kept as `te: trailers` when it lists
 * trailers), Upgrade, and every field that Connection names. With `isUpgrade`, Upgrade is kept and one
 * `connection: upgrade` takes the place of the first Connection field. Returns `headers` itself when
 * there is nothing to strip; otherwise a new array.
 */
export function stripHopByHop(headers: readonly string[], isUpgrade = false): readonly string[] {
  let found = false;
  for (let k = 0; k < headers.length && !found; k += 2) found = HOP_BY_HOP.has(headers[k] as string);
  if (!found) return headers;
  const nominated = new Set<string>();
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'connection') continue;
    for (const option of tokenList(headers[k + 1] as string, true) ?? []) {
      if (!PROTECTED.has(option)) nominated.add(option);
    }
  }
  const out: string[] = [];
  let isTeKept = false;
  let isConnectionAdded = false;
  for (let k = 0; k < headers.length; k += 2) {
    const name = headers[k] as string;
    const value = headers[k + 1] as string;
    if (name === 'upgrade' && isUpgrade) out.push(name, value);
    else if (name === 'connection' && isUpgrade && !isConnectionAdded) {
      out.push('connection', 'upgrade');
      isConnectionAdded = true;
    } else if (name === 'te' && !isTeKept && listsTrailers(value)) {
      out.push('te', 'trailers');
      isTeKept = true;
    } else if (!HOP_BY_HOP.has(name) && !nominated.has(name)) out.push(name, value);
  }
  return out;
}

/** TE = #( "trailers" / transfer-coding [weight] ): true when one member is `trailers`. */
function listsTrailers(value: string): boolean {
  return value
    .toLowerCase()
    .split(',')
    .some((member) => member.trim() === 'trailers');
}
