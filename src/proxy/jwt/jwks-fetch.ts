// One fetch of a JSON document (a JWKS, an OpenID discovery document) over HTTP(S), bounded in time
// and size: the fetch is aborted after `timeoutMs`, a body over `maxBytes` is refused as it arrives,
// redirects are not followed (the URL written in the policy is the one trusted). Rejects with a
// message that says what failed, for the proxy's log.

/** A JWKS of a few dozen RSA keys is tens of KiB; anything near this is not a key set. */
export const MAX_JWKS_BYTES = 256 * 1024;

export async function fetchJson(url: string, o: { timeoutMs: number; maxBytes: number }): Promise<unknown> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
  } catch (err) {
    throw new Error(fetchFailure(err, o.timeoutMs));
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`answered ${res.status}, want 200`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > o.maxBytes) {
    await res.body?.cancel();
    throw new Error(`body of ${declared} bytes is over the ${o.maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > o.maxBytes) throw new Error(`body is over the ${o.maxBytes}-byte limit`);
      chunks.push(chunk);
    }
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(fetchFailure(err, o.timeoutMs));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new Error(`body is not JSON: ${(err as Error).message}`);
  }
}

function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
