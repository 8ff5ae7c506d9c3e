import { XdrWriter } from '../../xdr/index.js';
import { Attr4, Nfs4Stat } from '../constants.js';
import type { Fattr4, Status4Res, Verify4Args } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { bitmap4, bitmap4And, bitmap4IsEmpty, bitmap4Minus } from '../codec/bitmap.js';
import { encodeFattr4 } from '../codec/fattr4.js';
import { fattr4Of, SUPPORTED } from '../attrs.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/** rdattr_error and the write-only attributes have no value to compare. */
const NOT_COMPARED = bitmap4(Attr4.RDATTR_ERROR, Attr4.TIME_ACCESS_SET, Attr4.TIME_MODIFY_SET, Attr4.MODE_UMASK);

function bytes(f: Fattr4): Buffer {
  const w = new XdrWriter(256);
  encodeFattr4(w, f);
  return w.finish();
}

/**
 * Whether the object's attributes are exactly those given (VERIFY, NVERIFY; RFC 8881 sections
 * 18.31 and 18.15): compared as their XDR, attribute by attribute. An attribute we do not support
 * is NFS4ERR_ATTRNOTSUPP; rdattr_error and write-only ones are NFS4ERR_INVAL (knfsd).
 */
async function same(a: Verify4Args, c: Compound): Promise<boolean | Status4Res> {
  const mask = a.objAttributes.mask;
  if (!bitmap4IsEmpty(bitmap4Minus(mask, SUPPORTED[c.minor] ?? SUPPORTED[1]))) return { status: Nfs4Stat.ATTRNOTSUPP };
  if (!bitmap4IsEmpty(bitmap4And(mask, NOT_COMPARED))) return { status: Nfs4Stat.INVAL };
  try {
    const v = await verifyCurrent(c);
    const ours = await fattr4Of(c.env, c.minor, { exp: v.export, node: v.node, attrs: v.attrs, fh: c.fh }, mask);
    return bytes(ours).equals(bytes(a.objAttributes));
  } catch (e) {
    return { status: toNfs4Stat(e) };
  }
}

export const verify: OpRow<37> = {
  async handler(a, c): Promise<Status4Res> {
    const r = await same(a, c);
    return typeof r === 'boolean' ? { status: r ? 0 : Nfs4Stat.NOT_SAME } : r;
  },
  fh: true,
};

export const nverify: OpRow<17> = {
  async handler(a, c): Promise<Status4Res> {
    const r = await same(a, c);
    return typeof r === 'boolean' ? { status: r ? Nfs4Stat.SAME : 0 } : r;
  },
  fh: true,
};
