// Istio's reserved gateway name for the sidecars of the mesh: a VirtualService (or one of its match
// blocks) applies to sidecars when it lists no gateways, or lists `mesh`.

export const MESH_GATEWAY = 'mesh';

export function isBoundToMesh(gateways: readonly string[] | undefined): boolean {
  return gateways === undefined || gateways.length === 0 || gateways.includes(MESH_GATEWAY);
}
