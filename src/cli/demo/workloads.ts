// The demo's workloads: Bookinfo's services (productpage → details, reviews v1/v2/v3 → ratings over
// gRPC → kv over TCP), the load generator, and any number of synthetic services for a larger mesh.
// Each has a loopback address of its own (127.10.x.y), and its app another (127.110.x.y).

export const NAMESPACE = 'bookinfo';

export interface DemoWorkload {
  name: string;
  service: string;
  version?: string;
  /** `--port` of alder run (NAME:PORT); none for the load generator. */
  port?: string;
  /** The app's file in src/demo/apps. */
  app: string;
  address: string;
  appAddress: string;
  listenPort: number;
  env: Record<string, string>;
}

function workload(
  n: number,
  w: Omit<DemoWorkload, 'address' | 'appAddress' | 'env' | 'listenPort'> & {
    env?: Record<string, string>;
    listenPort?: number;
  },
): DemoWorkload {
  const [third, fourth] = [Math.floor(n / 250), (n % 250) + 1];
  return {
    ...w,
    address: `127.10.${third}.${fourth}`,
    appAddress: `127.110.${third}.${fourth}`,
    listenPort: w.listenPort ?? Number(w.port?.split(':')[1] ?? 0),
    env: w.env ?? {},
  };
}

/** Bookinfo, the load generator, and `extra` synthetic services (svc-1 …, each a details app). */
export function demoWorkloads(extra: number): DemoWorkload[] {
  const list = [
    workload(0, {
      name: 'productpage',
      service: 'productpage',
      version: 'v1',
      port: 'http-web:9080',
      app: 'productpage',
    }),
    workload(1, { name: 'details', service: 'details', version: 'v1', port: 'http:9080', app: 'details' }),
    ...(['v1', 'v2', 'v3'] as const).map((version, i) =>
      workload(2 + i, {
        name: `reviews-${version}`,
        service: 'reviews',
        version,
        port: 'http:9080',
        app: 'reviews',
        env: { SERVICE_VERSION: version },
      }),
    ),
    workload(5, { name: 'ratings', service: 'ratings', version: 'v1', port: 'grpc:9080', app: 'ratings' }),
    workload(6, { name: 'kv', service: 'kv', port: 'tcp-redis:6379', app: 'kv-store' }),
    workload(7, { name: 'loadgen', service: 'loadgen', app: 'loadgen', listenPort: 9099 }),
  ];
  for (let i = 1; i <= extra; i++) {
    list.push(workload(7 + i, { name: `svc-${i}`, service: `svc-${i}`, port: 'http:9080', app: 'details' }));
  }
  return list;
}
