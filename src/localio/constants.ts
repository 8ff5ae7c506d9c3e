/** LOCALIO auxiliary program (Linux include/linux/nfslocalio.h, fs/nfs/localio.c): spec/localio.x. */
export const LOCALIO_PROGRAM = 400122;
export const LOCALIO_V1 = 1;
export const LocalioProc = { NULL: 0, UUID_IS_LOCAL: 1 } as const;
/** The probe's nonce: 16 raw bytes on the wire (fixed opaque, no length word). */
export const UUID_SIZE = 16;
