// Loaded with `node --import` into an `alder` process under test: appends the URL of each module the
// process loads (import or require) to the file named by ALDER_TEST_MODULE_LOG, so a test can check
// what a command loaded.

import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.ALDER_TEST_MODULE_LOG;
if (file !== undefined) {
  registerHooks({
    load(url, context, next) {
      appendFileSync(file, `${url}\n`);
      return next(url, context);
    },
  });
}
