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
// V8 settings a command needs from its first instruction (the heap's shape is fixed once it
// exists), given by starting again in place with them: same pid, same descriptors. The node proxy
// builds every joining workload's config in bursts that grow V8's young generation to 128 MiB,
// which it then keeps; capped at 2 MiB per semi-space its heap stays near what is live
// (docs/proxy.md#memory-sidecar-and-node-proxy). A --max-semi-space-size of the user's own wins.
const V8_FLAGS = { node: ['--max-semi-space-size=2'] };
const flags = V8_FLAGS[process.argv[2]];
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
if (flags !== undefined && !given.includes('--max-semi-space-size') && process.execve !== undefined) {
  const argv = [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)];
  process.execve(process.execPath, argv, process.env);
}
// Cache compiled (type-stripped) modules between runs: it cuts start-up several times over.
const { enableCompileCache, registerHooks } = await import('node:module');
enableCompileCache?.();
// Alder's own modules import each other by relative paths to .ts files of this package, which
// is ESM ("type": "module"), so each resolves to the URL the path names, as TypeScript: nothing to
// look up. Node's resolver would still stat, realpath and search package.json for each of the
// several hundred imports, and that work is what makes V8 optimize its path functions while a
// proxy starts: about 7 MiB of a proxy's idle RSS (bench/proxy-rss.ts). A path that names no
// file fails when it is read, naming the path.
const SOURCES = [new URL('../src/', import.meta.url).href, new URL('./', import.meta.url).href];
registerHooks?.({
  resolve(specifier, context, nextResolve) {
    const parent = context.parentURL;
    if (
      (specifier.startsWith('./') || specifier.startsWith('../')) &&
      specifier.endsWith('.ts') &&
      parent !== undefined &&
      SOURCES.some((root) => parent.startsWith(root))
    ) {
      return { url: new URL(specifier, parent).href, format: 'module-typescript', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
