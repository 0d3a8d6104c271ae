// Where the CLI writes and reads, so commands can be run in-process by tests and by the demo.

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Standard input, read whole (for `-f -`). */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  /** The current time, for AGE columns. */
  now(): number;
}

export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    now: () => Date.now(),
  };
}
