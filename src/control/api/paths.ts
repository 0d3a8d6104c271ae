// Reads Kubernetes-style API paths into what they address:
//   /api/v1/namespaces/{ns}/{plural}[/{name}]             core kinds (Service, ServiceAccount)
//   /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]
//   /apis/{group}/{version}/{plural}[/{name}]              cluster-scoped kinds, or every namespace

import { AlderError, ErrorCode, findKindByPath, type KindInfo } from '../../config/index.ts';

export interface ResourcePath {
  info: KindInfo;
  /** The version the client asked for; responses are served in it. */
  version: string;
  /** undefined: every namespace (a list or watch across the mesh). '' for cluster-scoped kinds. */
  namespace: string | undefined;
  name: string | undefined;
}

/** One percent-decoded path segment; a malformed escape (`%E0%A4%A`) is the client's mistake: 400. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `path segment ${JSON.stringify(segment)} has a malformed percent-encoding`,
      { hint: 'encode each byte of a name as %XX with two hex digits, and only whole UTF-8 characters' },
    );
  }
}

/** undefined when the path is not a resource path at all (the caller tries its other routes). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodePathSegment);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const version = rest[0] as string;
  let namespace: string | undefined;
  let tail = rest.slice(1);
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    namespace = tail[1];
    tail = tail.slice(2);
  }
  if (tail.length < 1 || tail.length > 2) return undefined;
  const plural = tail[0] as string;
  const info = findKindByPath(group, version, plural);
  if (info === undefined) {
    throw new AlderError(
      ErrorCode.NotFound,
      `no resource ${plural} in ${group === '' ? version : `${group}/${version}`}`,
      {
        hint: 'run `alder get --help` for the kinds Alder serves',
      },
    );
  }
  if (!info.namespaced && namespace !== undefined) {
    throw new AlderError(
      ErrorCode.NotFound,
      `${info.kind} is cluster-scoped: drop /namespaces/${namespace} from the path`,
    );
  }
  const name = tail[1];
  if (info.namespaced && namespace === undefined && name !== undefined) {
    throw new AlderError(
      ErrorCode.NotFound,
      `${info.kind} is namespaced: address it as .../namespaces/{namespace}/${plural}/${name}`,
    );
  }
  return { info, version, namespace: info.namespaced ? namespace : '', name };
}

/** The collection path of a kind in a namespace, for Location headers and the CLI. */
export function collectionPath(
  info: KindInfo,
  namespace: string | undefined,
  version = info.versions[0],
): string {
  const root = info.group === '' ? `/api/${version}` : `/apis/${info.group}/${version}`;
  return info.namespaced && namespace !== undefined
    ? `${root}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`
    : `${root}/${info.plural}`;
}
