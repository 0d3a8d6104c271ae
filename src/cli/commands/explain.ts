// `alder explain URL`: how one workload's proxy routes a request, and why. Asks a running proxy
// (--admin, its /explain), or compiles a config folder for the calling workload (--config --from)
// and explains with the same code the proxy runs; both print formatRequestExplanation.

import { AlderError, ErrorCode, isAlderError } from '../../config/index.ts';
import { explainSnapshot, formatRequestExplanation } from '../../proxy/explain.ts';
import type { ExplainInput, RequestExplanation } from '../../proxy/index.ts';
import { ADMIN_HELP, adminGet, adminUrl } from '../admin-client.ts';
import type { Command } from '../command.ts';
import type { CliIo } from '../io.ts';
import { compileFolder } from '../local-snapshots.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

export const explain: Command = {
  name: 'explain',
  help: `Explain how a workload's proxy routes one request: the virtual host, the route that matches and
why, its destinations with their DestinationRule policy and endpoints, and why every other route
did not match. Exits 0 once explained (also when the answer is "no route": 404 or 502, flag NR).

Usage:
  alder explain [--admin HOST:PORT] [-X METHOD] [-H 'NAME: VALUE' ...] [-o json] URL
  alder explain --config DIR --from NAMESPACE/WORKLOAD [-X METHOD] [-H 'NAME: VALUE' ...] [-o json] URL

  URL is what the app asks for: http://reviews:9080/api?x=1 (the authority picks the virtual host).

Options:
${ADMIN_HELP}
                       the running proxy explains with its snapshot and live endpoint health
  --config DIR         compile this folder of Istio YAML here instead, as \`alder proxy --config\` does
  --from NS/WORKLOAD   with --config: the WorkloadEntry whose proxy sends the request
  -X, --request METHOD the method (default GET)
  -H, --header 'N: V'  a request header; repeat for more
  --route-table NAME   the route table (default outbound, the one HTTP_PROXY traffic uses)
  -o, --output json    the explanation as JSON

Example:
  alder explain --config mesh/ --from shop/productpage -H 'end-user: jason' http://reviews:9080/
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'explain',
      argv,
      {
        admin: { type: 'string' },
        config: { type: 'string' },
        from: { type: 'string' },
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        'route-table': { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      1,
    );
    const format = outputFormat(values.output, ['json'] as const, 'explain');
    const input = requestOf({
      url: positionals[0],
      method: values.request,
      headers: values.header ?? [],
      routeTable: values['route-table'],
    });
    let explanation: RequestExplanation;
    if (values.config !== undefined) {
      if (values.admin !== undefined) throw usageError('use --admin or --config, not both', 'explain');
      if (values.from === undefined)
        throw usageError(
          '--config needs --from NAMESPACE/WORKLOAD: the workload that sends the request',
          'explain',
        );
      explanation = await explainLocally(values.config, values.from, input, io);
    } else {
      if (values.from !== undefined)
        throw usageError('--from goes with --config; with --admin the proxy is the sender', 'explain');
      explanation = await explainRemotely(adminUrl(values.admin, 'explain'), input);
    }
    io.out(
      format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatRequestExplanation(explanation),
    );
    return 0;
  },
};

function requestOf(o: {
  url: string | undefined;
  method: string | undefined;
  headers: string[];
  routeTable: string | undefined;
}): ExplainInput {
  if (o.url === undefined) throw usageError('explain needs a URL, e.g. http://reviews:9080/', 'explain');
  // Split by hand: the URL class would normalise the path its own way; the proxy applies MeshConfig
  // pathNormalization, and the explanation shows what that makes of the path.
  const m = /^(https?):\/\/([^/?#\s]+)([^#\s]*)/i.exec(o.url);
  if (m === null)
    throw usageError(`URL must be http://HOST[:PORT][/PATH], got ${JSON.stringify(o.url)}`, 'explain');
  const rest = m[3] ?? '';
  const method = o.method ?? 'GET';
  if (!/^[A-Za-z]+$/.test(method))
    throw usageError(`-X must be a method, got ${JSON.stringify(method)}`, 'explain');
  const headers = o.headers.map((h): [string, string] => {
    const colon = h.indexOf(':');
    const name = h.slice(0, colon).trim();
    if (colon === -1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw usageError(`-H must be 'NAME: VALUE', got ${JSON.stringify(h)}`, 'explain');
    return [name, h.slice(colon + 1).trim()];
  });
  return {
    method: method.toUpperCase(),
    authority: m[2] as string,
    path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`,
    scheme: (m[1] as string).toLowerCase(),
    headers,
    routeTable: o.routeTable,
  };
}

async function explainRemotely(base: string, input: ExplainInput): Promise<RequestExplanation> {
  const q = new URLSearchParams({
    method: input.method,
    authority: input.authority,
    path: input.path,
    scheme: input.scheme,
  });
  for (const [name, value] of input.headers) q.append('header', `${name}:${value}`);
  if (input.routeTable !== undefined) q.set('table', input.routeTable);
  return adminGet<RequestExplanation>(base, `/explain?${q}`);
}

async function explainLocally(
  dir: string,
  from: string,
  input: ExplainInput,
  io: CliIo,
): Promise<RequestExplanation> {
  const workload = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(from);
  if (workload === null)
    throw usageError(
      `--from must be NAMESPACE/WORKLOAD, e.g. shop/productpage, got ${JSON.stringify(from)}`,
      'explain',
    );
  let snapshot: Awaited<ReturnType<typeof compileFolder>>;
  try {
    snapshot = await compileFolder({
      dir,
      workload: { namespace: workload[1] as string, name: workload[2] as string },
      tls: undefined,
      outboundProxy: null,
    });
  } catch (err) {
    if (
      isAlderError(err) &&
      err.code === ErrorCode.CompileFailed &&
      err.message.startsWith('no WorkloadEntry')
    ) {
      throw new AlderError(ErrorCode.CompileFailed, err.message, {
        hint: `--from names the WorkloadEntry whose proxy sends the request: add it to ${dir}, or fix the name`,
      });
    }
    if (isAlderError(err)) throw err;
    throw new AlderError(ErrorCode.ConfigInvalid, (err as Error).message, {
      hint: 'fix the config folder; `alder validate -f DIR` lists every problem',
    });
  }
  io.err(`notice: compiled ${dir} for ${from}; no live state here, so every endpoint counts as healthy\n`);
  return explainSnapshot(snapshot, input);
}
