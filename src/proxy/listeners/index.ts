// Public face of the listeners: the bound sockets kept in step with the snapshot, under the cap on
// open downstream connections.

export { ConnectionBudget, downstreamCap, FD_RESERVE, openFileLimit } from './connection-budget.ts';
export { ListenerSet } from './listener-set.ts';
