// Public face of the proxy's agent: the stream to the control plane and what it drives.

export {
  type ProbeOptions,
  type ProbeSpec,
  type ProbeState,
  type RunningProbe,
  startProbe,
} from './probes.ts';
export { type AgentOptions, type Credentials, fileCredentials, ProxyAgent } from './proxy-agent.ts';
export { Sidecar, type SidecarOptions } from './sidecar.ts';
export { type ControlPlaneAddress, type JoinAs, WorkloadCertificate } from './workload-certificate.ts';
