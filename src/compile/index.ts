// Public face of the compiler: config + one workload → that proxy's snapshot. Pure.

export {
  type CompileOptions,
  compileSnapshot,
  OUTBOUND_ROUTE_TABLE,
  spiffeIdOf,
} from './compile-snapshot.ts';
