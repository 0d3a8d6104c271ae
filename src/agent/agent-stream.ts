// What a workload's agent needs of the stream to the control plane, whoever holds the connection:
// a sidecar's own (StreamClient) or a node proxy's, shared by every workload of its host (NodeStream).

import type { Drained, Hello, Push, StreamError, WorkloadRef } from '../wire/index.ts';

/** The workload's side of a stream: what it says on each connect and what it does with what comes. */
export interface StreamHandlers {
  /** The hello to say on each connect (its `known` reflects what the proxy holds now). */
  hello(): Hello;
  /** Applies a push; resolves with undefined when accepted, or the reason it was refused. */
  onPush(push: Push): Promise<string | undefined>;
  onError(error: StreamError): void;
  /** The control plane's answer to a drain. */
  onDrained?(drained: Drained): void;
  /** `connected` once the workload's hello is said on a new connection. */
  onState(state: 'connected' | 'disconnected', detail: string): void;
}

/** One workload's stream, dedicated or a channel of a shared one. */
export interface AgentStream {
  /** Connects (or joins the shared connection) and says hello. */
  start(): void;
  /** Sends a line while the workload's hello is said; dropped otherwise (the next hello says it again). */
  send(line: string): void;
  /** Says goodbye for `workload` (it leaves callers' rotation at once), then lets the stream go. */
  stop(workload?: WorkloadRef): Promise<void>;
}

/** The workload's certificate as a shared stream needs it: to prove the workload, or to connect with. */
export interface StreamCredentials {
  pem(): { cert: string; key: string; ca: string };
  /** ISO 8601 expiry of the current certificate. */
  expiry(): string | undefined;
}

/** A stream several workloads share (a node proxy's): each workload gets a channel of it. */
export interface SharedStream {
  channel(o: { workload: WorkloadRef; credentials: StreamCredentials } & StreamHandlers): AgentStream;
}
