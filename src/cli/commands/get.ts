// `alder get KIND [NAME]`: lists or shows objects as a table, YAML, JSON or names.

import { stringify } from 'yaml';
import {
  AlderError,
  ErrorCode,
  findKindByName,
  KINDS,
  type KindInfo,
  type Resource,
} from '../../config/index.ts';
import { collectionPath } from '../../control/index.ts';
import { type Command, clientFor, objectName, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import type { CliIo } from '../io.ts';
import { formatAge, formatTable } from '../table.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

const FORMATS = ['yaml', 'json', 'wide', 'name'] as const;
type Format = (typeof FORMATS)[number];

export const get: Command = {
  name: 'get',
  help: `List objects of one or more kinds, or show one by name.

Usage:
  alder get KIND[,KIND...] [NAME...] [-n NAMESPACE | -A] [-l SELECTOR] [-o yaml|json|wide|name]
  alder get all [-n NAMESPACE | -A]

Kinds by name, plural or short name: ${KINDS.map((k) => [k.kind.toLowerCase(), ...k.shortNames].join('|')).join(', ')}

Options:
  -n, --namespace NS      namespace (default: default)
  -A, --all-namespaces    every namespace
  -l, --selector SEL      label selector, e.g. app=reviews,version!=v1
  -o, --output FORMAT     yaml, json, wide (more columns) or name
${SERVER_HELP}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('get', argv, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      selector: { type: 'string', short: 'l' },
      output: { type: 'string', short: 'o' },
      ...SERVER_OPTION,
    });
    const format = outputFormat(values.output, FORMATS, 'get');
    const [kindArg, ...names] = positionals;
    if (kindArg === undefined) throw usageError('get needs a kind, e.g. `alder get virtualservices`', 'get');
    if (values['all-namespaces'] && values.namespace !== undefined)
      throw usageError('use -n or -A, not both', 'get');
    if (values['all-namespaces'] && names.length > 0)
      throw usageError('a name needs one namespace: use -n, not -A', 'get');
    const kinds = kindArg === 'all' ? [...KINDS] : kindArg.split(',').map(resolveKind);
    const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? 'default');
    const client = clientFor(values, io);
    const found: { info: KindInfo; items: Resource[] }[] = [];
    for (const info of kinds) {
      const base = collectionPath(info, info.namespaced ? namespace : undefined);
      if (names.length > 0) {
        const items = await Promise.all(
          names.map((n) => client.request<Resource>('GET', `${base}/${encodeURIComponent(n)}`)),
        );
        found.push({ info, items });
      } else {
        const query =
          values.selector === undefined ? '' : `?labelSelector=${encodeURIComponent(values.selector)}`;
        const list = await client.request<{ items: Resource[] }>('GET', base + query);
        found.push({ info, items: list.items });
      }
    }
    print(
      found,
      { format, allNamespaces: namespace === undefined, single: names.length > 0 && kinds.length === 1 },
      io,
    );
    if (found.every((f) => f.items.length === 0) && format !== 'json' && format !== 'yaml') {
      io.err(
        namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`,
      );
    }
    return 0;
  },
};

function resolveKind(name: string): KindInfo {
  const info = findKindByName(name);
  if (info !== undefined) return info;
  throw new AlderError(ErrorCode.Usage, `unknown kind ${JSON.stringify(name)}`, {
    hint: `kinds: ${KINDS.map((k) => k.plural).join(', ')} (run \`alder get --help\` for short names)`,
  });
}

interface PrintOptions {
  format: Format | undefined;
  allNamespaces: boolean;
  single: boolean;
}

function print(found: { info: KindInfo; items: Resource[] }[], o: PrintOptions, io: CliIo): void {
  const all = found.flatMap((f) => f.items);
  if (o.format === 'json' || o.format === 'yaml') {
    const first = all[0];
    const doc =
      o.single && all.length === 1 && first !== undefined
        ? first
        : { apiVersion: 'v1', kind: 'List', items: all };
    io.out(o.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc));
    return;
  }
  if (o.format === 'name') {
    for (const f of found)
      for (const r of f.items) io.out(`${objectName(f.info.kind, f.info.group, r.metadata.name)}\n`);
    return;
  }
  const several = found.length > 1;
  const tables: string[] = [];
  for (const { info, items } of found) {
    if (items.length === 0) continue;
    const columns = (info.printerColumns ?? []).filter((c) => o.format === 'wide' || !c.wide);
    const headers = [
      ...(o.allNamespaces && info.namespaced ? ['NAMESPACE'] : []),
      'NAME',
      ...columns.map((c) => c.header),
      'AGE',
    ];
    const rows = items.map((r) => [
      ...(o.allNamespaces && info.namespaced ? [r.metadata.namespace ?? ''] : []),
      several ? objectName(info.kind, info.group, r.metadata.name) : r.metadata.name,
      ...columns.map((c) => safeColumn(() => c.value(r))),
      formatAge(r.metadata.creationTimestamp, io.now()),
    ]);
    tables.push(formatTable(headers, rows));
  }
  io.out(tables.join('\n'));
}

function safeColumn(value: () => string): string {
  try {
    return value();
  } catch {
    return '<error>';
  }
}
