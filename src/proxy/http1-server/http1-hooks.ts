// The HTTP/1 connection manager's hooks for one listener: the router for its direction, and the
// counting and logging of what the proxy refuses or answers itself.

import type { Http1LimitsSource } from '../http1/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import type { ConnectionHooks } from './server-connection.ts';

export function http1Hooks(
  listener: string,
  ctx: ProxyContext,
  route: ConnectionHooks['route'],
  limits?: Http1LimitsSource,
): ConnectionHooks {
  return {
    ...(limits === undefined ? {} : { limits }),
    route,
    onRejected: (r) => {
      ctx.stats.add('alder_proxy_http_rejected_total', { listener, reason: r.reason });
      ctx.log.warn('request refused', {
        listener,
        status: r.status,
        reason: r.reason,
        afterHead: r.isAfterHead,
      });
    },
    onLocalReply: (reply) => {
      if (reply.flag === '') return; // a reply the config asked for (redirect, direct response)
      ctx.stats.add('alder_proxy_local_replies_total', { listener, flag: reply.flag });
      ctx.log.warn('local reply', {
        listener,
        status: reply.status,
        flag: reply.flag,
        reason: reply.message,
      });
    },
  };
}
