// Alder's own multi-object endpoints, which Kubernetes' per-object API has no match for:
//   POST /alder/v1/apply   {sources:[{name,text}], namespace?, dryRun?}  → every object stored, or none
//   POST /alder/v1/delete  {sources:[{name,text}], namespace?, ignoreNotFound?}
// Sources keep their file names so that errors point at `file:line`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AlderError,
  apiVersionOf,
  describeRef,
  ErrorCode,
  formatFinding,
  loadRefs,
  type Source,
} from '../../config/index.ts';
import { admitSources } from '../admission.ts';
import { checkObjectSizes } from '../object-size.ts';
import type { Store, WriteOp } from '../store/index.ts';
import { readBody, send } from './http-io.ts';

interface BatchRequest {
  sources: Source[];
  namespace: string;
  dryRun: boolean;
  ignoreNotFound: boolean;
}

async function readBatch(req: IncomingMessage, maxBodyBytes: number): Promise<BatchRequest> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, maxBodyBytes));
  } catch (err) {
    if (err instanceof AlderError) throw err;
    throw new AlderError(ErrorCode.RequestInvalid, `body must be JSON: ${(err as Error).message}`);
  }
  const b = body as Record<string, unknown> | null;
  const sources = b?.sources;
  if (
    !Array.isArray(sources) ||
    !sources.every((s) => typeof s?.name === 'string' && typeof s?.text === 'string')
  ) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      'body must be {"sources":[{"name":"file.yaml","text":"..."}]}',
    );
  }
  const namespace = typeof b?.namespace === 'string' && b.namespace !== '' ? b.namespace : 'default';
  return { sources, namespace, dryRun: b?.dryRun === true, ignoreNotFound: b?.ignoreNotFound === true };
}

export async function handleApply(
  req: IncomingMessage,
  res: ServerResponse,
  store: Store,
  maxBodyBytes: number,
) {
  const batch = await readBatch(req, maxBodyBytes);
  const admitted = admitSources(batch.sources, batch.namespace);
  const ops: WriteOp[] = admitted.resources.map((l) => {
    const { resourceVersion: _unconditional, ...metadata } = l.resource.metadata;
    return { op: 'apply', object: { ...l.resource, metadata } };
  });
  const { skipped, notEnforced } = admitted;
  if (batch.dryRun) {
    const results = admitted.resources.map((l) => ({
      apiVersion: apiVersionOf(l.info),
      kind: l.info.kind,
      plural: l.info.plural,
      group: l.info.group,
      namespace: l.resource.metadata.namespace ?? '',
      name: l.resource.metadata.name,
      action: 'validated',
    }));
    send(req, res, 200, { dryRun: true, results, skipped, notEnforced, warnings: admitted.warnings });
    return;
  }
  const outcome =
    ops.length === 0 ? { revision: await store.currentRevision(), results: [] } : await store.write(ops);
  const results = outcome.results.map((r, i) => {
    const info = admitted.resources[i]?.info;
    return {
      apiVersion: r.object.apiVersion,
      kind: r.ref.kind,
      plural: info?.plural ?? '',
      group: info?.group ?? '',
      namespace: r.ref.namespace,
      name: r.ref.name,
      action: r.action,
      resourceVersion: r.object.metadata.resourceVersion,
    };
  });
  send(req, res, 200, {
    revision: outcome.revision,
    results,
    skipped,
    notEnforced,
    warnings: admitted.warnings,
  });
}

export async function handleDelete(
  req: IncomingMessage,
  res: ServerResponse,
  store: Store,
  maxBodyBytes: number,
) {
  const batch = await readBatch(req, maxBodyBytes);
  checkObjectSizes(batch.sources);
  const loaded = loadRefs(batch.sources, { defaultNamespace: batch.namespace });
  if (loaded.errors.length > 0) {
    throw new AlderError(
      ErrorCode.ConfigInvalid,
      `cannot read the objects to delete:\n${loaded.errors.map(formatFinding).join('\n')}`,
    );
  }
  // Delete what exists in one batch; if something vanished meanwhile, look again once.
  for (let attempt = 0; ; attempt++) {
    const present = await Promise.all(
      loaded.refs.map(async (r) => ({ ...r, exists: (await store.get(r.ref)) !== undefined })),
    );
    const missing = present.filter((r) => !r.exists);
    if (missing.length > 0 && !batch.ignoreNotFound) {
      throw new AlderError(
        ErrorCode.NotFound,
        `not found, nothing was deleted: ${missing.map((m) => describeRef(m.ref)).join(', ')}`,
        {
          hint: 'pass --ignore-not-found to delete the others anyway',
          details: { missing: missing.map((m) => m.ref) },
        },
      );
    }
    const ops: WriteOp[] = present.filter((r) => r.exists).map((r) => ({ op: 'delete', ref: r.ref }));
    try {
      const outcome =
        ops.length === 0 ? { revision: await store.currentRevision(), results: [] } : await store.write(ops);
      const results = outcome.results.map((r) => ({
        kind: r.ref.kind,
        namespace: r.ref.namespace,
        name: r.ref.name,
        group: loaded.refs.find((x) => x.ref.kind === r.ref.kind)?.info.group ?? '',
        action: r.action,
      }));
      const notFound = missing.map((m) => ({
        kind: m.ref.kind,
        namespace: m.ref.namespace,
        name: m.ref.name,
        group: m.info.group,
        action: 'not found',
      }));
      send(req, res, 200, {
        revision: outcome.revision,
        results: [...results, ...notFound],
        skipped: loaded.skipped,
      });
      return;
    } catch (err) {
      if (attempt > 0 || !(err instanceof AlderError) || err.code !== ErrorCode.StoreNotFound) throw err;
    }
  }
}
