/** The NFSv3 wire codec (RFC 1813), split by concern; see codec/*.ts. */
export * from './codec/basic.js';
export * from './codec/args.js';
export * from './codec/results.js';
export * from './codec/results-decode.js';
