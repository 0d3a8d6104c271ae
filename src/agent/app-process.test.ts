import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AppProcess, exitStatus, forwardSignals } from './app-process.ts';

/** A Node app running `code`, its output piped so the test can read it. */
function nodeApp(code: string): AppProcess {
  return AppProcess.start({ command: process.execPath, args: ['-e', code], env: process.env, stdio: 'pipe' });
}

/** Resolves once the app has printed `text`. */
async function printed(app: AppProcess, text: string): Promise<void> {
  let seen = '';
  const out = app.child.stdout as NodeJS.ReadableStream;
  while (!seen.includes(text)) seen += String((await once(out, 'data'))[0]);
}

describe('the app under supervision', () => {
  it('app: passes the exit code on, and a signal as 128 + its number', async () => {
    assert.equal(await nodeApp('process.exit(3)').exited, 3, 'want the app’s own exit code');
    const waiting = nodeApp("console.log('up'); setInterval(() => {}, 1000)");
    await printed(waiting, 'up');
    waiting.signal('SIGTERM');
    assert.equal(await waiting.exited, 143, 'want 143 for an app SIGTERM ended');
    assert.equal(exitStatus(null, 'SIGKILL'), 137);
  });

  it('app: a command that does not exist ends with 127 and says so', async () => {
    const app = AppProcess.start({
      command: 'alder-no-such-command',
      args: [],
      env: process.env,
      stdio: 'pipe',
    });
    assert.equal(await app.exited, 127, 'want 127, as a shell answers');
    assert.match(app.startError ?? '', /alder-no-such-command: command not found/);
  });

  it('app: stop sends SIGTERM, and SIGKILL to an app still running after the grace period', async () => {
    const polite = nodeApp(
      "process.on('SIGTERM', () => process.exit(0)); console.log('up'); setInterval(() => {}, 1000)",
    );
    await printed(polite, 'up');
    assert.equal(await polite.stop(5000), 0, 'want an app that exits on SIGTERM to end with its own code');
    const stubborn = nodeApp(
      "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)",
    );
    await printed(stubborn, 'up');
    const started = performance.now();
    assert.equal(await stubborn.stop(300), 137, 'want an app that ignores SIGTERM killed');
    assert.ok(performance.now() - started >= 250, 'want the grace period given first');
  });

  it('app: the signals the supervisor gets reach the app', async () => {
    const app = nodeApp(
      "process.on('SIGHUP', () => { console.log('hup'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000)",
    );
    await printed(app, 'up');
    const got: string[] = [];
    const undo = forwardSignals(app, (s) => got.push(s), ['SIGHUP']);
    try {
      const heard = printed(app, 'hup');
      process.kill(process.pid, 'SIGHUP');
      await heard;
      assert.equal(await app.exited, 0);
      assert.deepEqual(got, ['SIGHUP'], 'want the supervisor told too');
    } finally {
      undo();
    }
  });
});
