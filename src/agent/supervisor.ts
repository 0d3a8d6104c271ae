// The face of the agent for an `alder run` whose workload's proxy is the host's node proxy: it
// reaches the node over its local socket, picks the workload's addresses, gives the app its mesh
// environment and runs it. It loads none of the proxy: such a run is a small supervisor, paid once
// per workload (docs/proxy.md#memory-sidecar-and-node-proxy). A sidecar run loads index.ts.

export { meshEnvironment, type Upstream } from './app-env.ts';
export { AppProcess } from './app-process.ts';
export { defaultNodeSocket, NodeClient } from './node-socket.ts';
export { appAddressFor, pickWorkloadAddress } from './run-addresses.ts';
