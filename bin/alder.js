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
