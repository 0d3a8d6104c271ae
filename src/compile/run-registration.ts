// What `alder run --service NAME --port http-web:8080 [--version v2]` asks the control plane for, as
// config: the Service (made when the namespace has none of that name) and a WorkloadGroup per
// service and version (Kubernetes would call it the Deployment), whose members are the workloads
// `alder run` starts. Pure; the control plane checks and stores what this makes, and the workload
// joins the group as any member of a WorkloadGroup does.

import type { Resource, ServiceSpec, WorkloadGroupSpec } from '../config/index.ts';
import { type RunRegistration, runGroupName } from '../wire/index.ts';

export { type RunRegistration, runGroupName };

/** Set on the objects `alder run` made, so `alder get` shows where they came from. */
export const CREATED_BY_ANNOTATION = 'alder.dev/created-by';
export const CREATED_BY_RUN = 'alder run';

function labelsOf(run: RunRegistration): Record<string, string> {
  return { app: run.service, ...(run.version ? { version: run.version } : {}) };
}

/** The Service for a run whose namespace has none: it selects `app: SERVICE` on the run's ports. */
export function runService(run: RunRegistration): Resource<ServiceSpec> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: run.service,
      namespace: run.namespace,
      annotations: { [CREATED_BY_ANNOTATION]: CREATED_BY_RUN },
    },
    spec: {
      selector: { app: run.service },
      ports: run.ports.map((p) => ({ name: p.name, port: p.port })),
    },
  };
}

/**
 * The run's WorkloadGroup: members get `app` and `version` labels and the service account; with
 * ports, a TCP readiness probe on the first keeps a member out of rotation until its app listens.
 */
export function runGroup(run: RunRegistration): Resource<WorkloadGroupSpec> {
  const first = run.ports[0];
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadGroup',
    metadata: {
      name: runGroupName(run),
      namespace: run.namespace,
      annotations: { [CREATED_BY_ANNOTATION]: CREATED_BY_RUN },
    },
    spec: {
      metadata: { labels: labelsOf(run) },
      template: {
        serviceAccount: run.serviceAccount,
        ports: Object.fromEntries(run.ports.map((p) => [p.name, p.port])),
      },
      ...(first === undefined
        ? {}
        : { probe: { periodSeconds: 1, failureThreshold: 2, tcpSocket: { port: first.port } } }),
    },
  };
}

/**
 * Why a run cannot join the Service and WorkloadGroup that exist (empty: it can): its ports must be
 * the Service's, by name and number, and the group must be for the same account and labels.
 */
export function runConflicts(
  run: RunRegistration,
  service: Resource<ServiceSpec> | undefined,
  group: Resource<WorkloadGroupSpec> | undefined,
): string[] {
  const problems: string[] = [];
  const where = `${run.namespace}/${run.service}`;
  if (service !== undefined) {
    const selector = service.spec?.selector ?? {};
    const labels = labelsOf(run);
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v) || Object.keys(selector).length === 0) {
      problems.push(
        `Service ${where} selects ${JSON.stringify(selector)}, which a workload labelled ${JSON.stringify(labels)} does not match`,
      );
    }
    for (const p of run.ports) {
      const same = service.spec?.ports?.find((sp) => sp.port === p.port);
      if (same === undefined) {
        const have = (service.spec?.ports ?? []).map((sp) => `${sp.name ?? ''}:${sp.port}`).join(', ');
        problems.push(`Service ${where} has no port ${p.port} (it has ${have || 'none'})`);
      } else if ((same.name ?? '') !== p.name) {
        problems.push(
          `Service ${where} names port ${p.port} ${JSON.stringify(same.name ?? '')}, not ${JSON.stringify(p.name)}`,
        );
      }
    }
  }
  if (group !== undefined) {
    const name = `WorkloadGroup ${run.namespace}/${group.metadata.name}`;
    const account = group.spec?.template.serviceAccount || 'default';
    if (account !== run.serviceAccount) {
      problems.push(`${name} runs as service account ${account}, not ${run.serviceAccount}`);
    }
    const labels = { ...group.spec?.template.labels, ...group.spec?.metadata?.labels };
    for (const [k, v] of Object.entries(labelsOf(run))) {
      if (labels[k] !== v)
        problems.push(`${name} gives its members ${k}=${labels[k] ?? '(none)'}, not ${k}=${v}`);
    }
  }
  return problems;
}
