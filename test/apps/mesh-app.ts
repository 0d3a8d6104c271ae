// A small program for `alder run` tests, in three modes:
//   serve  — HTTP on ALDER_APP_ADDRESS:PORT: answers {workload, xfcc, path}; on SIGTERM stops
//            accepting, lets requests in flight finish (each may take SLOW_MS), and exits 0
//   call U — one GET of U through HTTP_PROXY (as any Node app does with NODE_USE_ENV_PROXY=1);
//            prints the status and body; exits 0 on 200, else 1
//   wait   — does nothing until SIGTERM, then exits with EXIT_CODE (default 0)
// It prints `ready` once it serves, and `env NAME=VALUE` lines for the mesh variables it got.

import { createServer } from 'node:http';

const [mode, url] = process.argv.slice(2);
for (const name of [
  'HTTP_PROXY',
  'NO_PROXY',
  'NODE_USE_ENV_PROXY',
  'ALDER_APP_ADDRESS',
  'ALDER_WORKLOAD',
  'PORT',
]) {
  if (process.env[name] !== undefined) console.log(`env ${name}=${process.env[name]}`);
}
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith('ALDER_UPSTREAM_')) console.log(`env ${name}=${value}`);
}

if (mode === 'serve') {
  const slowMs = Number(process.env.SLOW_MS ?? 0);
  const server = createServer((req, res) => {
    req.resume();
    const answer = () =>
      res.end(
        `${JSON.stringify({
          workload: process.env.ALDER_WORKLOAD,
          xfcc: req.headers['x-forwarded-client-cert'] ?? null,
          path: req.url,
        })}\n`,
      );
    if (slowMs > 0) setTimeout(answer, slowMs);
    else answer();
  });
  server.listen(Number(process.env.PORT), process.env.ALDER_APP_ADDRESS ?? '127.0.0.1', () =>
    console.log('ready'),
  );
  process.on('SIGTERM', () => {
    console.log('stopping');
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
} else if (mode === 'call') {
  const res = await fetch(String(url), { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
    console.log(`error ${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`);
    process.exit(1);
  });
  const body = await res.text();
  console.log(`status ${res.status}`);
  console.log(`body ${body.trim()}`);
  process.exit(res.status === 200 ? 0 : 1);
} else if (mode === 'wait') {
  console.log('ready');
  const timer = setInterval(() => {}, 60_000);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    console.log('stopping');
    process.exit(Number(process.env.EXIT_CODE ?? 0));
  });
} else {
  console.error(`usage: mesh-app.ts serve | call URL | wait (got ${mode})`);
  process.exit(2);
}
