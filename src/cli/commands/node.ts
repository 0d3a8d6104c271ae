// `alder node`: the host's node proxy. One process serves every workload `alder run` starts on this
// host, each with its own identity, listeners and config; the process's own cost and its stream to
// the control plane are paid once.

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createLogger } from '../../telemetry/index.ts';
import type { Command } from '../command.ts';
import { parseCommandArgs, parseHostPort } from '../usage.ts';

const DEFAULT_CONTROL_PLANE = '127.0.0.1:15012';

export const node: Command = {
  name: 'node',
  help: `Run the node proxy: one proxy process for every workload of this host. \`alder run\` hands its
workload to it (the default when it runs); each workload keeps its own identity, certificate,
listeners on its own address, config and HTTP_PROXY secret. It holds one stream to the control
plane for all of them, on which each workload proves its identity with its own key. Stops on
SIGTERM or SIGINT: each workload leaves its callers' rotation at once.

Usage:
  alder node [--control-plane HOST:PORT] [--socket PATH] [--admin HOST:PORT] [--state-dir DIR]

Options:
  --control-plane ADDR   the control plane's mesh port (default $ALDER_CONTROL_PLANE or ${DEFAULT_CONTROL_PLANE})
  --socket PATH          the local socket alder run finds it at (default $ALDER_NODE_SOCKET, else
                         $XDG_RUNTIME_DIR/alder/node.sock, else /tmp/alder-UID/node.sock); its folder
                         is made 0700 and the socket 0600: only this user (and root) can hand it workloads
  --admin HOST:PORT      the admin port (default 127.0.0.1:15020): /ready, /workloads, and each
                         workload's own admin API under /workloads/NAMESPACE/NAME/
  --state-dir DIR        each workload's key, certificate and last good config (default .alder/node)

Joins use the token \`alder run\` passes (--token or ALDER_JOIN_TOKEN of the run), not one of the node's.
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'node',
      argv,
      {
        'control-plane': { type: 'string' },
        socket: { type: 'string' },
        admin: { type: 'string' },
        'state-dir': { type: 'string' },
      },
      0,
    );
    const cp = hostPort(
      (values['control-plane'] ?? io.env.ALDER_CONTROL_PLANE ?? DEFAULT_CONTROL_PLANE)
        .replace(/^https:\/\//, '')
        .replace(/\/+$/, ''),
      '--control-plane',
    );
    const admin = hostPort(values.admin ?? '127.0.0.1:15020', '--admin');
    const { NodeProxy, defaultNodeSocket } = await import('../../agent/index.ts');
    const socketPath = resolve(values.socket ?? defaultNodeSocket(io.env));
    const log = createLogger({ fields: { component: 'node' } });
    const proxy = await NodeProxy.start({
      controlPlane: cp,
      stateDir: resolve(values['state-dir'] ?? '.alder/node'),
      socketPath,
      log,
    });
    const server = createServer((req, res) => proxy.serveAdmin(req, res));
    server.listen(admin.port, admin.host);
    try {
      await once(server, 'listening');
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    const a = server.address() as AddressInfo;
    log.info('node proxy ready', {
      socket: socketPath,
      admin: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
      controlPlane: `${cp.host}:${cp.port}`,
    });
    const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    log.info('shutting down', { signal: String(signal[0] ?? ''), workloads: proxy.size });
    server.close();
    await proxy.stop();
    return 0;
  },
};

function hostPort(text: string, flag: string): { host: string; port: number } {
  return parseHostPort(text, flag, 'node');
}
