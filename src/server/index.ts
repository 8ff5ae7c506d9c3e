export { NfsServer, defaultExportEntry, type NfsServerOptions } from './server.js';
