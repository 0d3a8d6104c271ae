// Public face of the config model: resource types, parsing, schema and semantic validation.
// Pure: reads only the text it is given, imports nothing else of Alder's.

export { formatDurationMs, parseDurationMs } from './duration.ts';
export {
  formatNotEnforced,
  NOT_ENFORCED_KINDS,
  type NotEnforcedKind,
  notEnforcedKinds,
} from './enforcement.ts';
export { AlderError, type AlderErrorOptions, ErrorCode, isAlderError } from './errors.ts';
export { apiVersionOf, type KindInfo, type PrinterColumn } from './kind-info.ts';
export type { AuthorizationPolicySpec } from './kinds/authorization-policy.ts';
export type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  DestinationRuleSpec,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  Subset,
  TrafficPolicy,
} from './kinds/destination-rule.ts';
export { GRPC_STATUS_NAMES } from './kinds/http-fault.ts';
export { RETRY_CONDITIONS } from './kinds/http-retry.ts';
export {
  findKindByApiVersion,
  findKindByName,
  findKindByPath,
  isManagedGroup,
  KINDS,
} from './kinds/index.ts';
export { type MeshConfig, type MeshConfigSpec, resolveMeshConfig } from './kinds/mesh-config.ts';
export type { PeerAuthenticationSpec } from './kinds/peer-authentication.ts';
export {
  PROBE_DEFAULTS,
  PROBE_HANDLERS,
  type ReadinessProbe,
} from './kinds/readiness-probe.ts';
export type { JwtRule, RequestAuthenticationSpec } from './kinds/request-authentication.ts';
export type { ServicePort, ServiceSpec } from './kinds/service.ts';
export type { ServiceEntrySpec, ServicePort as ServiceEntryPort } from './kinds/service-entry.ts';
export type { IstioEgressListener, IstioIngressListener, SidecarSpec } from './kinds/sidecar.ts';
export type {
  CorsPolicy,
  Destination,
  HeaderOperations,
  Headers,
  HTTPDirectResponse,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  HttpStringMatch,
  RouteDestination,
  TCPRoute,
  TLSRoute,
  VirtualServiceSpec,
} from './kinds/virtual-service.ts';
export type { WorkloadEntrySpec } from './kinds/workload-entry.ts';
export type { WorkloadGroupSpec } from './kinds/workload-group.ts';
export { type LabelSelector, parseLabelSelector } from './label-selector.ts';
export {
  type CheckedObject,
  checkObject,
  type Finding,
  formatFinding,
  type LoadedRefs,
  type LoadedResource,
  type LoadOptions,
  type LoadResult,
  loadRefs,
  loadSources,
  type SkippedKind,
  type Source,
} from './load.ts';
export { type ParsedDocument, parseSource } from './parse.ts';
export { type PortProtocol, protocolOfPort } from './protocol.ts';
export { compileRe2, type Re2Translation, translateRe2 } from './re2-regexp.ts';
export {
  describeRef,
  type ObjectMeta,
  type ObjectRef,
  type OwnerReference,
  type Resource,
  refOf,
} from './resource.ts';
export type { Issue, Severity } from './schema.ts';
export * as schema from './schema.ts';
