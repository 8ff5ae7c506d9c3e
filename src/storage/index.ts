/** The storage layer: the Backend contract and the two backends that ship. */
export * from './types.js';
export { PosixBackend, PosixNode, type PosixBackendOptions, type PosixDataPath } from './posix.js';
export { MemoryBackend, type MemoryBackendOptions } from './memory.js';
export { BackendDecorator } from './decorator.js';
export { ReadAheadBackend } from './readahead.js';
export { WriteBehindBackend } from './write-behind.js';
