// A real gRPC client and server (grpc-js) for black-box tests: a Greeter service whose messages are
// JSON (no .proto needed), a server that reports what each call saw (:authority, the mesh's
// x-forwarded-client-cert), and clients made as an app makes them, with `http_proxy` or without.

import * as grpc from '@grpc/grpc-js';
import { within } from './grpc-kit.ts';

export interface Hello {
  name: string;
}

export interface Greeting {
  message: string;
  /** The :authority the server saw. */
  authority: string;
  /** The x-forwarded-client-cert the server saw ('' when none). */
  xfcc: string;
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

function method(name: string, isResponseStream: boolean) {
  return {
    path: `/shop.Greeter/${name}`,
    requestStream: false,
    responseStream: isResponseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

/** shop.Greeter: SayHello (unary) and CountTo (server streaming: `n` greetings, then OK). */
const GREETER = {
  sayHello: method('SayHello', false),
  countTo: method('CountTo', true),
} satisfies grpc.ServiceDefinition;

const GreeterClient = grpc.makeGenericClientConstructor(GREETER, 'Greeter');

function greeting(call: grpc.ServerUnaryCall<Hello, Greeting> | grpc.ServerWritableStream<Hello, Greeting>) {
  return (message: string): Greeting => ({
    message,
    authority: call.getHost(),
    xfcc: String(call.metadata.get('x-forwarded-client-cert')[0] ?? ''),
  });
}

/** Starts the Greeter on 127.0.0.1, a free port. */
export async function startGreeter(): Promise<{ port: number; stop(): void }> {
  const server = new grpc.Server();
  server.addService(GREETER, {
    sayHello: (call: grpc.ServerUnaryCall<Hello, Greeting>, done: grpc.sendUnaryData<Greeting>) => {
      done(null, greeting(call)(`hello ${call.request.name}`));
    },
    countTo: (call: grpc.ServerWritableStream<Hello & { n: number }, Greeting>) => {
      const reply = greeting(call);
      for (let k = 1; k <= call.request.n; k++) call.write(reply(`${k} for ${call.request.name}`));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err === null ? resolve(bound) : reject(err),
    );
  });
  return { port, stop: () => server.forceShutdown() };
}

export interface Greeter {
  sayHello(name: string): Promise<Greeting>;
  countTo(name: string, n: number): Promise<Greeting[]>;
  close(): void;
}

/**
 * A Greeter client for `target` (`host:port`), made with `env` in force as an app would start with it
 * (grpc-js reads `grpc_proxy`, `https_proxy`, `http_proxy` and `no_proxy` when a channel is made; the
 * variables are restored right after), and channel `options`. Each call has a 10 s deadline.
 */
export function greeterClient(
  target: string,
  env: Record<string, string> = {},
  options: grpc.ChannelOptions = {},
): Greeter {
  const names = ['grpc_proxy', 'https_proxy', 'http_proxy', 'no_proxy', 'no_grpc_proxy'];
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) delete process.env[n];
  Object.assign(process.env, env);
  let client: grpc.Client;
  try {
    client = new GreeterClient(target, grpc.credentials.createInsecure(), options);
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
  const deadline = () => ({ deadline: Date.now() + 10_000 });
  const untyped = client as unknown as Record<
    string,
    (...args: unknown[]) => grpc.ClientReadableStream<Greeting>
  >;
  return {
    sayHello: (name) =>
      new Promise((resolve, reject) => {
        (untyped.sayHello as (...args: unknown[]) => void)(
          { name },
          new grpc.Metadata(),
          deadline(),
          (err: grpc.ServiceError | null, reply: Greeting) => (err === null ? resolve(reply) : reject(err)),
        );
      }),
    countTo: (name, n) => {
      const stream = (untyped.countTo as (...args: unknown[]) => grpc.ClientReadableStream<Greeting>)(
        { name, n },
        new grpc.Metadata(),
        deadline(),
      );
      const got: Greeting[] = [];
      stream.on('data', (g: Greeting) => got.push(g));
      return within(
        new Promise<Greeting[]>((resolve, reject) => {
          stream.on('error', reject);
          stream.on('end', () => resolve(got));
        }),
        `the CountTo stream from ${target}`,
        12_000,
      );
    },
    close: () => client.close(),
  };
}

/** A failed call's error as a user reads it: `14 UNAVAILABLE: …`. */
export function grpcErrorText(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  return e.code === undefined ? String(err) : `${e.code} ${grpc.status[e.code]}: ${e.details ?? ''}`;
}
