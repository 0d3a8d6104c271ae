// Public face of the control plane: the store, the API server and its process wiring.

export { collectionPath } from './api/paths.ts';
export { type ControlPlane, type ControlPlaneOptions, startControlPlane } from './control-plane.ts';
export { JoinTokens, type TokenInfo } from './identity/index.ts';
export type { Store, StoredObject, WatchEvent } from './store/index.ts';
