export { XdrReader } from './reader.js';
export { XdrWriter, xdrPad } from './writer.js';
export { XdrError, type XdrErrorCode } from './errors.js';
