export * from './auth.js';
export * from './context.js';
export * from './errors.js';
export * from './message.js';
export * from './program.js';
export * from './record.js';
export * from './drc.js';
export { RpcServer, type RpcServerOptions, type RpcServerStats, type CallEvent } from './server.js';
export { RpcClient, RpcCallError, authSys, AUTH_NONE, type RpcResult } from './client.js';
