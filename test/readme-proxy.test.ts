// The README's "A proxy beside each workload" examples, run as written: every curl line that sends
// through the forward proxy by an environment variable runs in a real shell against real proxies
// (only the proxy's address changes), and what the README shows it printing must be printed.
// Mesh: client 127.0.16.1 (forward proxy :15001) → web 127.0.16.2; ratings has no endpoints.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './harness.ts';
import { TestBed } from './mesh-fixture.ts';
import { clientWebYaml, service, yamlDocs } from './mesh-yaml.ts';

const run = promisify(execFile);
const README_PROXY = '127.0.0.1:15001';
const TEST_PROXY = '127.0.16.1:15001';

/** A command the README shows, and the lines it shows that command printing (none in a `sh` block). */
interface Example {
  command: string;
  shown: string[];
}

/** The forward-proxy curl examples of the README section, from its `sh` and `text` blocks. */
function proxyExamples(): Example[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### A proxy beside each workload');
  assert.ok(start >= 0, 'want the README section "A proxy beside each workload"');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const examples: Example[] = [];
  for (const block of section.matchAll(/```(sh|text)\n([\s\S]*?)```/g)) {
    const lines = (block[2] as string).split('\n');
    lines.forEach((line, i) => {
      const command = line.replace(/^\$ /, '');
      if (!/^\S+=\S+ curl /.test(command)) return;
      const shown =
        block[1] === 'text' ? lines.slice(i + 1).filter((l) => l !== '' && !l.startsWith('$ ')) : [];
      examples.push({ command, shown });
    });
  }
  return examples;
}

/** The environment without any proxy variable, so that only what a README line sets is in force. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)));
}

describe('README: a proxy beside each workload', () => {
  const bed = new TestBed('readme');

  before(async () => {
    const app = createServer((req, res) => res.end(`hello from web, ${req.method} ${req.url}\n`));
    const appPort = await bed.listen(app);
    await bed.startMesh({
      yaml: yamlDocs(
        clientWebYaml({ client: '127.0.16.1', web: '127.0.16.2', appPort }),
        service('ratings', 'shop', [{ name: 'http', port: 9080 }]),
      ),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: TEST_PROXY }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it('README: shows curl through the forward proxy, both as a command and with its output', () => {
    const examples = proxyExamples();
    assert.equal(
      examples.length,
      2,
      `want the two forward-proxy curl examples, got ${JSON.stringify(examples)}`,
    );
  });

  for (const [i, want] of [
    [0, 'hello from web, GET /hello'],
    [1, undefined],
  ] as const) {
    it(`README: forward-proxy example ${i + 1} works as written, in a shell with real curl`, async () => {
      const example = proxyExamples()[i];
      assert.ok(example, `want example ${i + 1} in the README`);
      assert.ok(example.command.includes(README_PROXY), `want the example to use ${README_PROXY}`);
      const command = `${example.command.replace(README_PROXY, TEST_PROXY)} --silent --show-error --max-time 10`;
      const out = await run('sh', ['-c', command], { env: cleanEnv() }).catch(
        (e: { code: number; stderr: string }) => ({ stdout: '', stderr: `exit ${e.code}: ${e.stderr}` }),
      );
      const printed = out.stdout.replace(/\r\n/g, '\n');
      if (want !== undefined)
        assert.ok(
          printed.includes(want),
          `want "${want}" from \`${command}\`, got ${JSON.stringify(printed)} (${out.stderr})`,
        );
      for (const line of example.shown) {
        assert.ok(
          printed.split('\n').includes(line),
          `want the line the README shows, ${JSON.stringify(line)}, from \`${command}\`; got ${JSON.stringify(printed)} (${out.stderr})`,
        );
      }
    });
  }
});
