// Public face of the HTTP/1 connection manager: one strict server connection per downstream socket,
// and the hooks that bind it to a listener's router and counters.

export { http1Hooks } from './http1-hooks.ts';
export { type ConnectionHooks, Http1ServerConnection } from './server-connection.ts';
