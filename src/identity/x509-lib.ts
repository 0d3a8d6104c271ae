// Loads @peculiar/x509 for the modules that build CSRs and sign certificates, on node's WebCrypto.
// The library's dependency injection (tsyringe) asks for the Reflect metadata API, which it only
// reads for constructor parameter types it never has here; a minimal WeakMap-backed stand-in is
// installed first unless a full polyfill is already loaded. Everything else uses node:crypto.

import { webcrypto } from 'node:crypto';

type MetadataMap = Map<unknown, unknown>;
const metadata = new WeakMap<object, Map<string | symbol | undefined, MetadataMap>>();

function ownMap(target: object, property: string | symbol | undefined, create: boolean) {
  let byProperty = metadata.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    metadata.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (map === undefined && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function installReflectMetadata(): void {
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect.getMetadata === 'function') return;
  const getOwn = (key: unknown, target: object, property?: string | symbol) =>
    ownMap(target, property, false)?.get(key);
  const get = (key: unknown, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t)) {
      const map = ownMap(t, property, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object, property?: string | symbol) => {
    ownMap(target, property, true)?.set(key, value);
  };
  Object.assign(reflect, {
    getOwnMetadata: getOwn,
    getMetadata: get,
    defineMetadata: define,
    hasOwnMetadata: (key: unknown, target: object, property?: string | symbol) =>
      ownMap(target, property, false)?.has(key) ?? false,
    metadata: (key: unknown, value: unknown) => (target: object, property?: string | symbol) =>
      define(key, value, target, property),
  });
}

installReflectMetadata();

/** The @peculiar/x509 module, with node's WebCrypto as its provider. */
export const x509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
