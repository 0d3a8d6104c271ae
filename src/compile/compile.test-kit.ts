// Helpers the compiler's tests share: load YAML as `alder apply` does, compile for one workload,
// and find a virtual host, route or cluster by name with a failure message that lists what exists.

import assert from 'node:assert/strict';
import { loadSources, type Resource } from '../config/index.ts';
import type { Cluster, Route, Snapshot, TcpRoute, VirtualHost } from '../wire/index.ts';
import { compileSnapshot } from './compile-snapshot.ts';

/** Loads YAML the way `alder apply` does and fails the test on any config error. */
export function config(yaml: string): Resource[] {
  const result = loadSources([{ name: 'mesh.yaml', text: yaml }]);
  assert.deepEqual(result.errors, [], 'test config must be valid');
  return result.resources.map((r) => r.resource);
}

/** Two services in `shop` (reviews with two versions, ratings), one in `books`, and a client. */
export const MESH = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
  - {name: tcp-db, port: 5432}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: books}
spec: {selector: {app: details}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v1, namespace: shop}
spec: {address: 127.0.2.1, labels: {app: reviews, version: v1}, serviceAccount: reviews, locality: us-east/zone-a}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v2, namespace: shop}
spec: {address: 127.0.2.2, labels: {app: reviews, version: v2}, serviceAccount: reviews, weight: 3}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ratings-v1, namespace: shop}
spec: {address: 127.0.2.3, labels: {app: ratings, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: details-v1, namespace: books}
spec: {address: 127.0.3.1, labels: {app: details, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: shop}
spec: {address: 127.0.2.9, labels: {app: client, tier: web}, locality: us-east/zone-b/rack-1}
`;

export const REVIEWS = 'reviews.shop.svc.cluster.local';
export const RATINGS = 'ratings.shop.svc.cluster.local';
export const DETAILS = 'details.books.svc.cluster.local';

/** Compiles MESH plus `extra` for a workload (default shop/client). */
export function compile(extra: string, workload = { namespace: 'shop', name: 'client' }): Snapshot {
  return compileSnapshot(config(`${MESH}---\n${extra}`), { workload });
}

export function virtualHost(snap: Snapshot, name: string): VirtualHost {
  const all = snap.routeTables.flatMap((t) => t.virtualHosts);
  const found = all.find((v) => v.name === name);
  assert.ok(found, `want virtual host ${name}, got ${all.map((v) => v.name).join(', ')}`);
  return found;
}

export function routes(snap: Snapshot, vhost = `${REVIEWS}:9080`): Route[] {
  return virtualHost(snap, vhost).routes;
}

export function tcpRoutes(snap: Snapshot, vhost = `${REVIEWS}:5432`): TcpRoute[] {
  return virtualHost(snap, vhost).tcpRoutes;
}

export function cluster(snap: Snapshot, name: string): Cluster {
  const found = snap.clusters.find((c) => c.name === name);
  assert.ok(found, `want cluster ${name}, got ${snap.clusters.map((c) => c.name).join(', ')}`);
  return found;
}

/** The clusters a route forwards to, with their weights: `cluster=weight`. */
export function split(route: Route | undefined): string[] {
  assert.ok(route, 'want a route');
  assert.equal(route.action.kind, 'forward', `want a forward action, got ${route.action.kind}`);
  return route.action.kind === 'forward'
    ? route.action.destinations.map((d) => `${d.cluster}=${d.weight}`)
    : [];
}

/** A VirtualService for reviews in shop with the given http routes (YAML, indented as a list). */
export function reviewsVs(http: string, extra = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
${extra}  http:
${http}`;
}
