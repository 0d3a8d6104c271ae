// Public face of the proxy's agent: the stream to the control plane and what it drives.

export {
  forwardProxyUrl,
  meshEnvironment,
  proxySecret,
  type Upstream,
  upstreamsOf,
  upstreamVariable,
} from './app-env.ts';
export { AppProcess, exitStatus } from './app-process.ts';
export { MAX_NODE_WORKLOADS, NodeProxy, type NodeProxyOptions } from './node-proxy.ts';
export {
  defaultNodeSocket,
  NodeClient,
  type NodeDrained,
  type NodeJoin,
  type NodeMessage,
  type NodeReady,
} from './node-socket.ts';
export {
  type ProbeOptions,
  type ProbeSpec,
  type ProbeState,
  type RunningProbe,
  startProbe,
} from './probes.ts';
export { type AgentOptions, type Credentials, fileCredentials, ProxyAgent } from './proxy-agent.ts';
export { appAddressFor, isLoopback, pickWorkloadAddress } from './run-addresses.ts';
export { Sidecar, type SidecarOptions } from './sidecar.ts';
export { type ControlPlaneAddress, type JoinAs, WorkloadCertificate } from './workload-certificate.ts';
