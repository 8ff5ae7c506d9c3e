import type { XdrReader, XdrWriter } from '../xdr/index.js';
import type { CallContext } from './context.js';

/**
 * Reply bytes that are not in memory: READ data a backend spliced into a kernel pipe
 * (storage/splice.ts). The connection moves them to its socket without copying when nothing else
 * is queued on it, and copies them out into its write queue otherwise.
 */
export interface ReplyTail {
  readonly length: number;
  /**
   * Write `head`, these bytes, then `trailer` to the non-blocking socket descriptor `fd`, as far as
   * it takes them without waiting; how many bytes of all three it took. Throws on a socket error.
   */
  sendTo(fd: number, head: Uint8Array, trailer: Uint8Array): number;
  /** Copy the bytes `sendTo` did not send (all of them if it was not called) into `into` at `at`; how many. */
  copyRest(into: Buffer, at: number): number;
}

/** What an encoder may append to a reply after the bytes it wrote: buffers (sent as they are) or one tail. */
export type ReplyChunk = Buffer | ReplyTail;

/**
 * One row of a procedure table: everything the RPC dispatcher needs to run a
 * procedure without knowing what it does (knfsd's struct svc_procedure).
 *
 * - `decode` validates the wire shape and bounds only; any throw (XdrError)
 *   becomes GARBAGE_ARGS.
 * - `handle` holds the semantics. It returns a typed result; protocol-level
 *   failures (nfsstat3 ...) are part of that result. Throwing an RpcAcceptError
 *   or RpcAuthError produces that RPC status; any other throw is SYSTEM_ERR.
 * - `encode` writes the result. It may return extra chunks (e.g. READ data)
 *   that go on the wire after the encoded bytes, without being copied: buffers,
 *   or a ReplyTail (data in a kernel pipe). Procedures with a tail are never
 *   `cache: 'reply'` (the cache keeps reply bytes).
 * - `cache`: 'reply' for non-idempotent procedures whose reply bytes the
 *   duplicate request cache keeps and replays.
 */
export interface ProcedureDef<A = any, R = any> {
  readonly name: string;
  decode(r: XdrReader): A;
  handle(args: A, ctx: CallContext): Promise<R> | R;
  encode(w: XdrWriter, res: R): ReplyChunk[] | void;
  readonly cache: 'none' | 'reply';
  /**
   * Called once the reply bytes have been handed to the socket (or the
   * connection is gone): the place to recycle buffers the result lent to
   * the encoder (READ data from a pool).
   */
  release?(res: R): void;
  /** Data bytes the call moved (READ/WRITE), for metrics. */
  bytes?(res: R): number;
  /**
   * For a procedure whose arguments end in bulk data (WRITE): move `r` from the start of the
   * arguments to the first byte of that data, reading only what precedes it (throwing like
   * `decode` on a short or bad prefix). The RPC layer uses it to place a large record in memory so
   * that the data starts on a page boundary — what direct I/O needs — without copying it.
   */
  seekPayload?(r: XdrReader): void;
}

/** A program: its number and, per version, the procedure table indexed by procedure number. */
export interface RpcProgram {
  readonly number: number;
  readonly name: string;
  readonly versions: ReadonlyMap<number, ReadonlyArray<ProcedureDef | undefined>>;
}
