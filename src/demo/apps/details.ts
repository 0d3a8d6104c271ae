// Bookinfo's details: the book's facts (The Comedy of Errors) as JSON at GET /details/:id. Calls
// nothing. Run: node src/demo/apps/details.ts (PORT, default 9080; ALDER_APP_ADDRESS, default 127.0.0.1).

import { exitOnFatalError, type Handler, sendJson, serveHttp, stopOnSignal } from './app-server.ts';

const NAME = 'details';
exitOnFatalError(NAME);

const BOOK = {
  author: 'William Shakespeare',
  year: 1595,
  type: 'paperback',
  pages: 200,
  publisher: 'PublisherA',
  language: 'English',
  'ISBN-10': '1234567890',
  'ISBN-13': '123-1234567890',
} as const;

const handle: Handler = async (req, res) => {
  const path = (req.url ?? '/').split('?')[0] as string;
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  const m = /^\/details\/([^/]*)$/.exec(path);
  if (req.method !== 'GET' || m === null) {
    return sendJson(res, 404, { error: 'not found', detail: 'want GET /details/:id' });
  }
  if (!/^\d{1,9}$/.test(m[1] as string)) {
    return sendJson(res, 400, {
      error: 'bad product id',
      detail: `want a number, got ${JSON.stringify(m[1])}`,
    });
  }
  sendJson(res, 200, { id: Number(m[1]), ...BOOK });
};

const { part } = await serveHttp(NAME, 9080, handle);
stopOnSignal(NAME, [part]);
