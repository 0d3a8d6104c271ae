// What every connection handler reaches: the runtime current when the connection starts, the
// proxy's counters and its log.

import type { Logger } from '../../telemetry/index.ts';
import type { Runtime } from './runtime.ts';
import type { Stats } from './stats.ts';

export interface ProxyContext {
  current(): Runtime;
  stats: Stats;
  log: Logger;
  /**
   * The Proxy-Authorization value requests to the forward proxy must carry (`Basic ...`), when the
   * workload's HTTP_PROXY holds credentials (`alder run`); absent: none needed. Never leaves the host.
   */
  outboundCredential?: string;
}

/** Counts and logs a reply the proxy made itself (a reply the config asked for is neither). */
export function reportLocalReply(
  ctx: ProxyContext,
  listener: string,
  reply: { status: number; flag: string; message: string },
): void {
  if (reply.flag === '') return;
  ctx.stats.add('alder_proxy_local_replies_total', { listener, flag: reply.flag });
  ctx.log.warn('local reply', { listener, status: reply.status, flag: reply.flag, reason: reply.message });
}
