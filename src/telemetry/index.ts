// Public face of telemetry: structured logs now; metric families, trace context and access logs
// with Istio's names join as the proxy and control plane produce them.

export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './log.ts';
