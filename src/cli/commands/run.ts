// `alder run`: puts a program into the mesh. Joins the control plane as the workload of a service
// (the control plane makes the Service when missing, and a WorkloadGroup per service and version),
// runs the workload's proxy in this process, starts the app once the proxy holds its config and
// certificate, and on SIGTERM or SIGINT drains: the workload leaves every caller's rotation, its
// inbound stops taking connections and lets those open finish, then the app is stopped while its
// outbound still works. Exits with the app's exit status.

import { isIP } from 'node:net';
import * as agent from '../../agent/supervisor.ts';
import { AlderError, ErrorCode } from '../../config/core.ts';
import { createLogger } from '../../telemetry/index.ts';
import type { Command } from '../command.ts';
import type { CliIo } from '../io.ts';
import {
  ADMIN_PORT,
  type HostPlan,
  nodeHost,
  OUTBOUND_PORT,
  type ProxyHost,
  sidecarHost,
} from '../run-hosts.ts';
import { parseCommandArgs, parseHostPort, usageError } from '../usage.ts';

const DEFAULT_CONTROL_PLANE = '127.0.0.1:15012';
const TUNNEL_PORT = 15008;

export const run: Command = {
  name: 'run',
  help: `Run a program as a workload of the mesh: its proxy joins the control plane, and the program
starts once the proxy holds its config and certificate, with HTTP_PROXY pointing at the proxy.

Usage:
  alder run --service NAME [-n NS] [--port NAME:PORT ...] [--version V] [--sa ACCOUNT]
            [--label KEY=VALUE ...] [--control-plane HOST:PORT] [--token TOKEN]
            [--address IP] [--app-address IP] [--state-dir DIR] [--admin HOST:PORT]
            [--drain-grace DURATION] [--ready-timeout DURATION] [--node | --sidecar]
            -- COMMAND [ARGS ...]

Options:
  --service NAME         the service this workload serves (a DNS label: reviews)
  -n, --namespace NS     its namespace (default "default")
  --port NAME:PORT       a port the app serves, named as Istio names ports: http-web:9080,
                         grpc:9090, tcp-redis:6379 (the name's prefix is the protocol; repeatable;
                         none for a program that only calls others, such as a batch job)
  --version V            the workload's version label; workloads of one service and version form
                         the WorkloadGroup SERVICE-V (SERVICE without a version)
  --sa ACCOUNT           its service account (default: the service's name); the token must grant it
  --label KEY=VALUE      another label of this workload (repeatable)
  --control-plane ADDR   the control plane's mesh port (default $ALDER_CONTROL_PLANE or ${DEFAULT_CONTROL_PLANE})
  --token TOKEN          a join token for NS and ACCOUNT (default $ALDER_JOIN_TOKEN; \`alder token
                         create\`); needed only until the certificate is saved in --state-dir
  --address IP           the workload's address, where callers' proxies reach it (default: a free
                         address of 127.77.0.1-254, so each workload on this host has its own)
  --app-address IP       where the app must listen (default: for a loopback --address 127.A.B.C,
                         127.(A+100).B.C; else 127.0.0.1). The app gets it as ALDER_APP_ADDRESS
  --state-dir DIR        key, certificate and last good config (default .alder/run/NS-SERVICE-ADDRESS)
  --admin HOST:PORT      the proxy's admin port (default ADDRESS:${ADMIN_PORT} for a loopback address,
                         else 127.0.0.1:${ADMIN_PORT})
  --drain-grace DURATION how long requests in flight may take to finish at shutdown, and the app to
                         exit after SIGTERM before it gets SIGKILL (default 10s)
  --ready-timeout DURATION how long to wait for the proxy's first config before giving up (default 60s)
  --node                 hand the workload to the host's node proxy (\`alder node\`); the default when
                         one listens at $ALDER_NODE_SOCKET (default $XDG_RUNTIME_DIR/alder/node.sock,
                         else /tmp/alder-UID/node.sock)
  --sidecar              run the workload's own proxy in this process, even when a node proxy runs

The app's environment: HTTP_PROXY and http_proxy (the proxy's outbound port, ADDRESS:${OUTBOUND_PORT}),
NO_PROXY for loopback, NODE_USE_ENV_PROXY=1 for node, ALDER_UPSTREAM_<SERVICE>_<PORT>=host:port for
each upstream on a local port of its own (a Sidecar egress port), ALDER_APP_ADDRESS, PORT (the first
--port), ALDER_WORKLOAD (namespace/name of its WorkloadEntry) and ALDER_SERVICE.

Shutdown (SIGTERM or SIGINT to alder run): the workload leaves every caller's rotation (alder run
waits until each caller's proxy has acknowledged that, at most 10s), its inbound stops accepting and
lets open requests finish (--drain-grace), then the app gets SIGTERM while its outbound still works.
Other signals (SIGHUP, SIGUSR1, SIGUSR2) go to the app as they come. Exit status: the app's (128+N
when a signal N ended it); 1 when the workload could not join or its proxy could not start.
`,
  async run(argv, io) {
    const dash = argv.indexOf('--');
    const own = dash === -1 ? argv : argv.slice(0, dash);
    const command = dash === -1 ? [] : argv.slice(dash + 1);
    const { values, positionals } = parseCommandArgs('run', own, {
      service: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      port: { type: 'string', multiple: true },
      version: { type: 'string' },
      sa: { type: 'string' },
      label: { type: 'string', multiple: true },
      'control-plane': { type: 'string' },
      token: { type: 'string' },
      address: { type: 'string' },
      'app-address': { type: 'string' },
      'state-dir': { type: 'string' },
      admin: { type: 'string' },
      'drain-grace': { type: 'string' },
      'ready-timeout': { type: 'string' },
      node: { type: 'boolean' },
      sidecar: { type: 'boolean' },
    });
    if (positionals.length > 0 && command.length === 0) {
      throw usageError(
        `put -- before the command: alder run --service NAME ... -- ${positionals.join(' ')}`,
        'run',
      );
    }
    if (positionals.length > 0)
      throw usageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'run');
    const [program, ...args] = command;
    if (program === undefined) throw usageError('give the command to run after --', 'run');
    const plan = planOf(values, io.env);
    return runWorkload(plan, program, args, io);
  },
};

interface RunPlan {
  controlPlane: { host: string; port: number };
  token: string | undefined;
  run: {
    namespace: string;
    service: string;
    serviceAccount: string;
    version?: string;
    ports: { name: string; port: number }[];
  };
  labels: Record<string, string>;
  address: string | undefined;
  appAddress: string | undefined;
  stateDir: string | undefined;
  admin: { host: string; port: number } | undefined;
  drainGraceMs: number;
  /** node: through the node proxy; sidecar: a proxy in this process; auto: the node proxy if one runs. */
  mode: 'node' | 'sidecar' | 'auto';
  readyTimeoutMs: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function planOf(
  values: {
    service?: string | undefined;
    namespace?: string | undefined;
    port?: string[] | undefined;
    version?: string | undefined;
    sa?: string | undefined;
    label?: string[] | undefined;
    'control-plane'?: string | undefined;
    token?: string | undefined;
    address?: string | undefined;
    'app-address'?: string | undefined;
    'state-dir'?: string | undefined;
    admin?: string | undefined;
    'drain-grace'?: string | undefined;
    'ready-timeout'?: string | undefined;
    node?: boolean | undefined;
    sidecar?: boolean | undefined;
  },
  env: Record<string, string | undefined>,
): RunPlan {
  if (values.node && values.sidecar) throw usageError('give --node or --sidecar, not both', 'run');
  const service = values.service;
  if (service === undefined) throw usageError('run needs --service NAME, e.g. --service reviews', 'run');
  const label = (flag: string, v: string) => {
    if (!DNS_LABEL.test(v) || v.length > 63) {
      throw usageError(
        `${flag} must be a DNS label (lowercase letters, digits and '-'), got ${JSON.stringify(v)}`,
        'run',
      );
    }
    return v;
  };
  label('--service', service);
  const namespace = label('--namespace', values.namespace ?? 'default');
  const serviceAccount = label('--sa', values.sa ?? service);
  const version = values.version === undefined ? undefined : label('--version', values.version);
  const ports = (values.port ?? []).map((text) => {
    const m = /^([a-z0-9-]+):(\d+)$/.exec(text);
    const port = Number(m?.[2]);
    if (m === null || port < 1 || port > 65535 || (m[1] as string).length > 15) {
      throw usageError(`--port must be NAME:PORT, such as http-web:9080, got ${JSON.stringify(text)}`, 'run');
    }
    return { name: m[1] as string, port };
  });
  const labels: Record<string, string> = {};
  for (const text of values.label ?? []) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw usageError(`--label must be KEY=VALUE, got ${JSON.stringify(text)}`, 'run');
    labels[text.slice(0, eq)] = text.slice(eq + 1);
  }
  for (const flag of ['address', 'app-address'] as const) {
    const v = values[flag];
    if (v !== undefined && isIP(v) === 0)
      throw usageError(`--${flag} must be an IP address, got ${JSON.stringify(v)}`, 'run');
  }
  const cpText = (values['control-plane'] ?? env.ALDER_CONTROL_PLANE ?? DEFAULT_CONTROL_PLANE)
    .replace(/^https:\/\//, '')
    .replace(/\/+$/, '');
  return {
    controlPlane: hostPort(cpText, '--control-plane'),
    token: values.token ?? (env.ALDER_JOIN_TOKEN || undefined),
    run: { namespace, service, serviceAccount, ...(version === undefined ? {} : { version }), ports },
    labels,
    address: values.address,
    appAddress: values['app-address'],
    stateDir: values['state-dir'],
    admin: values.admin === undefined ? undefined : hostPort(values.admin, '--admin'),
    drainGraceMs: durationMs(values['drain-grace'] ?? '10s', '--drain-grace'),
    readyTimeoutMs: durationMs(values['ready-timeout'] ?? '60s', '--ready-timeout'),
    mode: values.node ? 'node' : values.sidecar ? 'sidecar' : 'auto',
  };
}

async function runWorkload(plan: RunPlan, program: string, args: string[], io: CliIo): Promise<number> {
  const { namespace, service } = plan.run;
  // Logs go to stderr: the app's stdout stays its own.
  const log = createLogger({
    stream: process.stderr,
    fields: { component: 'run', service: `${namespace}/${service}` },
  });
  const socketPath = agent.defaultNodeSocket(io.env);
  const node = plan.mode === 'sidecar' ? undefined : await agent.NodeClient.connect(socketPath);
  if (node === undefined && plan.mode === 'node') {
    throw new AlderError(ErrorCode.ServerUnreachable, `no node proxy listens at ${socketPath}`, {
      hint: 'start one with `alder node`, or run without --node to give this workload its own proxy',
    });
  }
  const address = plan.address ?? (await agent.pickWorkloadAddress([TUNNEL_PORT, OUTBOUND_PORT, ADMIN_PORT]));
  const appAddress = plan.appAddress ?? agent.appAddressFor(address);
  const stopSignal = signalWatch();
  const hostPlan: HostPlan = {
    controlPlane: plan.controlPlane,
    token: plan.token,
    member: {
      run: plan.run,
      address,
      ...(Object.keys(plan.labels).length > 0 ? { labels: plan.labels } : {}),
      ...(appAddress === '127.0.0.1' ? {} : { appAddress }),
    },
    stateDir: plan.stateDir,
    admin: plan.admin,
    readyTimeoutMs: plan.readyTimeoutMs,
  };
  let host: ProxyHost | 'stopped';
  try {
    host =
      node === undefined
        ? await sidecarHost(hostPlan, log, stopSignal.first)
        : await nodeHost(node, hostPlan, log, stopSignal.first);
  } catch (err) {
    stopSignal.dispose();
    throw withJoinHint(err, plan);
  }
  if (host === 'stopped') {
    stopSignal.dispose();
    return 130;
  }
  const env: Record<string, string | undefined> = {
    ...io.env,
    ...agent.meshEnvironment({
      outboundProxy: host.outboundProxy,
      upstreams: host.upstreams,
      command: program,
    }),
    ALDER_APP_ADDRESS: appAddress,
    ALDER_WORKLOAD: `${host.workload.namespace}/${host.workload.name}`,
    ALDER_SERVICE: service,
    ...(plan.run.ports[0] === undefined ? {} : { PORT: String(plan.run.ports[0].port) }),
  };
  const app = agent.AppProcess.start({ command: program, args, env });
  log.info('app started', {
    command: program,
    pid: app.child.pid,
    workload: env.ALDER_WORKLOAD,
    address,
    appAddress,
    ...host.describe,
  });
  stopSignal.forward((signal) => app.signal(signal));
  const outcome = await Promise.race([
    app.exited.then((status) => ({ kind: 'exited' as const, status })),
    stopSignal.first.then((signal) => ({ kind: 'signal' as const, signal })),
  ]);
  let status: number;
  if (outcome.kind === 'exited') {
    if (app.startError !== undefined) io.err(`error: ${app.startError}\n`);
    log.info('app exited', { status: outcome.status });
    status = outcome.status;
  } else {
    log.info('draining', { signal: outcome.signal });
    // A second signal: no more waiting.
    void stopSignal.next().then(() => app.signal('SIGKILL'));
    const drained = await Promise.race([
      host.drain(plan.drainGraceMs),
      app.exited.then(() => 'exited' as const),
    ]);
    if (drained !== 'exited') {
      log.info(
        drained === undefined
          ? 'no answer from the control plane to the drain'
          : 'out of every caller\u2019s rotation',
        drained === undefined ? {} : { proxies: drained.synced, pending: drained.pending },
      );
      if (drained !== undefined) log.info('inbound drained', { ms: drained.inboundMs });
    }
    status = await app.stop(plan.drainGraceMs);
  }
  await host.stop();
  stopSignal.dispose();
  return status;
}

/** SIGTERM and SIGINT start the drain (the first) or cut it short (the next); others go to the app. */
function signalWatch() {
  const stopping: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const passed: NodeJS.Signals[] = ['SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  const waiters: ((s: NodeJS.Signals) => void)[] = [];
  let firstSeen: NodeJS.Signals | undefined;
  let resolveFirst: (s: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((r) => {
    resolveFirst = r;
  });
  let toApp: ((s: NodeJS.Signals) => void) | undefined;
  const onStop = (signal: NodeJS.Signals) => {
    if (firstSeen === undefined) {
      firstSeen = signal;
      resolveFirst(signal);
    } else for (const w of waiters.splice(0)) w(signal);
  };
  const onPass = (signal: NodeJS.Signals) => toApp?.(signal);
  for (const s of stopping) process.on(s, onStop);
  for (const s of passed) process.on(s, onPass);
  return {
    first,
    next: () => new Promise<NodeJS.Signals>((r) => waiters.push(r)),
    forward(fn: (s: NodeJS.Signals) => void) {
      toApp = fn;
    },
    dispose() {
      for (const s of stopping) process.off(s, onStop);
      for (const s of passed) process.off(s, onPass);
    },
  };
}

function withJoinHint(err: unknown, plan: RunPlan): unknown {
  if (!(err instanceof AlderError) || err.code !== ErrorCode.Usage) return err;
  return new AlderError(ErrorCode.Usage, err.message, {
    hint: `create a token: alder token create -n ${plan.run.namespace} --service-account ${plan.run.serviceAccount}, and pass it with --token or ALDER_JOIN_TOKEN`,
  });
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  return parseHostPort(text, flag, 'run');
}

function durationMs(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (m === null)
    throw usageError(
      `${flag} must be a duration such as 500ms, 10s or 1m, got ${JSON.stringify(text)}`,
      'run',
    );
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}
