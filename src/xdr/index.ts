export { XdrReader } from './reader.js';
export { XdrWriter, xdrPad, xdrPadding } from './writer.js';
export { XdrError, type XdrErrorCode } from './errors.js';
