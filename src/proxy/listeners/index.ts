// Public face of the listeners: the bound sockets kept in step with the snapshot.

export { ListenerSet } from './listener-set.ts';
