// Public face of the wire format: the snapshot types both sides share, and their codec.

export { decodeSnapshot, encodeSnapshot } from './codec.ts';
export type {
  Cluster,
  Endpoint,
  InboundListener,
  Listener,
  MeshSettings,
  OutboundPortListener,
  OutboundProxyListener,
  ProxyIdentity,
  ProxyTls,
  Route,
  RouteTable,
  Snapshot,
  TrafficKind,
  VirtualHost,
  WireProtocol,
} from './snapshot.ts';
export { WIRE_VERSION } from './snapshot.ts';
