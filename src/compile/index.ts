// Public face of the compiler: config + one workload → that proxy's snapshot. Pure.

export { type CompileOptions, compileSnapshot, OUTBOUND_ROUTE_TABLE } from './compile-snapshot.ts';
export { spiffeIdOf } from './spiffe-id.ts';
