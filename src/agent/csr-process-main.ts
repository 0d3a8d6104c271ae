// The child process csr-process.ts starts: prints {keyPem, csrPem} as JSON on stdout and exits.

import { createKeyAndCsr } from '../identity/index.ts';

const spiffeId = process.argv[2];
const made = await createKeyAndCsr(spiffeId);
process.stdout.write(JSON.stringify(made));
