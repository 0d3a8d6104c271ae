// Public face of the compiler: config + one workload → that proxy's snapshot. Pure. The control
// plane uses the two halves: the part a workload shares with every workload of its shape (namespace
// and labels), compiled once per shape, and the part only it has.

export {
  APP_ADDRESS_ANNOTATION,
  AUTO_REGISTRATION_GROUP_ANNOTATION,
  autoRegisteredEntry,
  autoRegisteredName,
  CONNECTED_AT_ANNOTATION,
  HEALTH_CHECKS_ANNOTATION,
  type WorkloadJoin,
} from './auto-register.ts';
export {
  type CompileOptions,
  compileSharedPart,
  compileSnapshot,
  compileWorkloadPart,
  DEFAULT_OUTBOUND_PROXY,
  findWorkloadEntry,
  OUTBOUND_ROUTE_TABLE,
  type SharedPart,
  type WorkloadPart,
} from './compile-snapshot.ts';
export { COMPILED_KINDS, type IndexedConfig, indexConfig, namespaceOf } from './config-index.ts';
export { type ProbePlan, probePlanOf } from './probe-spec.ts';
export {
  CREATED_BY_ANNOTATION,
  CREATED_BY_RUN,
  type RunRegistration,
  runConflicts,
  runGroup,
  runGroupName,
  runService,
} from './run-registration.ts';
export { spiffeIdOf } from './spiffe-id.ts';
