import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompiledRoute } from './compile-virtual-host.ts';
import { compileCors } from './cors.ts';
import { compileFault } from './fault.ts';
import { compileRequestFilters, type FilterEffects, runRequestFilters } from './request-filters.ts';
import type { RouteRequest } from './route-request.ts';

/** Only the fields the filters read. */
function route(fields: Partial<Pick<CompiledRoute, 'cors' | 'fault'>>): CompiledRoute {
  return {
    cors: undefined,
    fault: undefined,
    origin: 'VirtualService shop/web http[0]',
    ...fields,
  } as CompiledRoute;
}

const get: RouteRequest = {
  method: 'GET',
  path: '/',
  authority: 'web',
  scheme: 'http',
  port: 80,
  headers: [],
};
const fresh = (): FilterEffects => ({ delayMs: 0, responseHeaders: [] });

describe('request filters', () => {
  it('compiles only the filters some route uses, in chain order', () => {
    const abort = route({ fault: compileFault({ abort: { httpStatus: 418, percent: 100 } }) });
    const cors = route({
      cors: compileCors({
        allowOrigins: [{ exact: 'https://a.example' }],
        allowMethods: ['GET'],
        allowHeaders: [],
        exposeHeaders: [],
        unmatchedPreflights: 'FORWARD',
      }),
    });
    assert.deepEqual(compileRequestFilters([route({})]), [], 'want no filter when no route needs one');
    assert.deepEqual(
      compileRequestFilters([abort, cors]).map((f) => f.name),
      ['envoy.filters.http.cors', 'envoy.filters.http.fault'],
      'want CORS before fault, whatever order the routes come in',
    );
  });

  it('ends the chain at the first reply, with the delay set before it', () => {
    const both = route({
      fault: compileFault({ delay: { fixedMs: 40, percent: 100 }, abort: { httpStatus: 503, percent: 100 } }),
    });
    const effects = fresh();
    const reply = runRequestFilters(compileRequestFilters([both]), get, both, effects);
    assert.equal(reply?.status, 503, 'want the abort to answer the request');
    assert.equal(reply?.flag, 'FI', 'want the fault-injected flag');
    assert.equal(effects.delayMs, 40, 'want the delay served before the abort, as Envoy does');
  });

  it('lets a request through with what the filters added', () => {
    const delay = route({ fault: compileFault({ delay: { fixedMs: 25, percent: 100 } }) });
    const effects = fresh();
    assert.equal(runRequestFilters(compileRequestFilters([delay]), get, delay, effects), undefined);
    assert.equal(effects.delayMs, 25, 'want the delay to hold the request');
  });
});
