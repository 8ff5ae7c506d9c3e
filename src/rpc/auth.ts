import { XdrReader, XdrWriter, XdrError } from '../xdr/index.js';

/** RFC 5531 auth flavors. */
export const AuthFlavor = {
  NONE: 0,
  SYS: 1,
  SHORT: 2,
  DH: 3,
  RPCSEC_GSS: 6,
} as const;

/** Bounds from RFC 5531: opaque_auth body ≤ 400 bytes; machinename ≤ 255; ≤ 16 gids. */
export const MAX_AUTH_BODY = 400;
export const MAX_MACHINE_NAME = 255;
export const MAX_AUTH_GIDS = 16;

export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

/** The caller's credential as it arrived on the wire (before any squashing). */
export type Credential =
  | { flavor: 'none' }
  | { flavor: 'sys'; stamp: number; machine: string; uid: number; gid: number; gids: number[] };

export function readOpaqueAuth(r: XdrReader): OpaqueAuth {
  const flavor = r.uint32();
  const body = r.opaque(MAX_AUTH_BODY);
  return { flavor, body };
}

export function writeOpaqueAuth(w: XdrWriter, a: OpaqueAuth): void {
  w.uint32(a.flavor).opaque(a.body);
}

export const AUTH_NONE_VERF: OpaqueAuth = { flavor: AuthFlavor.NONE, body: Buffer.alloc(0) };

/** Decode an AUTH_SYS (authsys_parms) body. Throws XdrError on a malformed body. */
export function decodeAuthSys(body: Buffer): Credential {
  const r = new XdrReader(body);
  const stamp = r.uint32();
  const machine = r.string(MAX_MACHINE_NAME);
  const uid = r.uint32();
  const gid = r.uint32();
  const gids = r.array(MAX_AUTH_GIDS, (x) => x.uint32());
  r.expectEnd();
  return { flavor: 'sys', stamp, machine, uid, gid, gids };
}

export function encodeAuthSys(c: { stamp?: number; machine: string; uid: number; gid: number; gids: number[] }): Buffer {
  if (c.gids.length > MAX_AUTH_GIDS) throw new XdrError('XDR_TOO_LONG', `at most ${MAX_AUTH_GIDS} gids`);
  const w = new XdrWriter(64);
  w.uint32(c.stamp ?? 0).string(c.machine.slice(0, MAX_MACHINE_NAME)).uint32(c.uid).uint32(c.gid);
  w.uint32(c.gids.length);
  for (const g of c.gids) w.uint32(g);
  return Buffer.from(w.finish());
}
