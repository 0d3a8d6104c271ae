// The admin port, on localhost only: /ready, /config_dump (the snapshot held, with its version) and
// /stats (Prometheus text). Read-only.

import { createServer, type Server } from 'node:http';
import type { Runtime } from './runtime.ts';
import type { Stats } from './stats.ts';

export interface AdminSources {
  current(): Runtime | undefined;
  stats: Stats;
}

export function createAdminServer(sources: AdminSources): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const runtime = sources.current();
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (path) {
      case '/ready':
        return runtime === undefined
          ? send(503, 'text/plain', 'not ready: no snapshot yet\n')
          : send(200, 'text/plain', `ready ${runtime.snapshot.version}\n`);
      case '/config_dump':
        return runtime === undefined
          ? send(503, 'application/json', '{"error":"no snapshot yet"}\n')
          : send(200, 'application/json', `${JSON.stringify(runtime.snapshot, null, 2)}\n`);
      case '/stats':
      case '/stats/prometheus':
        return send(200, 'text/plain; version=0.0.4', sources.stats.render());
      default:
        return send(404, 'text/plain', 'admin endpoints: /ready /config_dump /stats\n');
    }
  });
}
