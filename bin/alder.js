#!/usr/bin/env node
// The `alder` command. Alder's TypeScript runs directly on Node.js 24 or newer (type stripping).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `error: alder needs Node.js 24 or newer, this is ${process.version}\n` +
      'hint: run it through npm (`npx alder …`), which uses the Node.js 24 that `npm ci` installed\n',
  );
  process.exit(1);
}
// Cache compiled (type-stripped) modules between runs: it cuts start-up several times over.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
