/**
 * Sample arguments and results of every NFSv4 operation, for round-trip
 * tests of the codec: each op has at least one args value and an NFS4_OK
 * and a failing result (plus the arms some results carry on failure). The
 * values are what the decoders give back exactly (no optional field set to
 * undefined, fattr4 masks that match their values).
 */
import { Attr4 as A, Nfs4Op as P, Nfs4Stat } from '../../src/nfs4/constants.js';
import { bitmap4 } from '../../src/nfs4/codec/bitmap.js';
import type { Fattr4, Nfs4ArgsMap, Nfs4KnownOp, Nfs4ResMap, Stateid4 } from '../../src/nfs4/types.js';

export const sid = (n: number): Stateid4 => ({ seqid: n, other: Buffer.alloc(12, n) });
export const verf = Buffer.from('0102030405060708', 'hex');
export const sess = Buffer.alloc(16, 0xab);
export const fh = Buffer.from('00112233445566778899aabbccddeeff0011', 'hex'); // 18 bytes: padded
export const owner = { clientid: 0x1122334455667788n, owner: Buffer.from('open id:1') };
export const cinfo = { atomic: true, before: 1n, after: 0xffffffffffffffffn };
export const setAttrs: Fattr4 = { mask: bitmap4(A.SIZE, A.MODE, A.TIME_MODIFY_SET), values: { size: 5n, mode: 0o644, timeModifySet: 'server' } };
export const getAttrs: Fattr4 = {
  mask: bitmap4(A.TYPE, A.CHANGE, A.SIZE, A.FSID, A.FILEID, A.MODE, A.NUMLINKS, A.OWNER, A.OWNER_GROUP, A.TIME_MODIFY, A.MOUNTED_ON_FILEID),
  values: {
    type: 1,
    change: 77n,
    size: 12345n,
    fsid: { major: 1n, minor: 2n },
    fileid: 42n,
    mode: 0o100644 & 0o7777,
    numlinks: 1,
    owner: '1000',
    ownerGroup: 'users@example.org',
    timeModify: { seconds: 1_700_000_000n, nseconds: 5 },
    mountedOnFileid: 42n,
  },
};
const chan = { headerPadSize: 0, maxRequestSize: 1049620, maxResponseSize: 1049480, maxResponseSizeCached: 7584, maxOperations: 16, maxRequests: 64 };
const implId = { domain: 'kernel.org', name: 'Linux 6.12', date: { seconds: 0n, nseconds: 0 } };
const netaddr = { netid: 'tcp', addr: '127.0.0.1.47.209' };
const ace = { type: 0, flag: 0, accessMask: 0, who: '' };
const F = Nfs4Stat.IO;
/**
 * A layout type no dissector knows: its bodies stay opaque. (Real file or
 * flex-files layout types would make Wireshark parse 'addr' / 'ff' as
 * structured bodies and call the packet malformed; the codec does not care.)
 */
const LAYOUT_OPAQUE = 0x80000001;

type Samples = { [K in Nfs4KnownOp]: { args: Nfs4ArgsMap[K][]; res: Nfs4ResMap[K][] } };
const st = (...s: number[]) => s.map((status) => ({ status })) as { status: never }[];

export const SAMPLES: Samples = {
  [P.ACCESS]: { args: [{ access: 0x3f }], res: [{ status: 0, supported: 0x1f, access: 0x3 }, { status: F }] },
  [P.CLOSE]: { args: [{ seqid: 0, openStateid: sid(3) }], res: [{ status: 0, openStateid: sid(4) }, { status: Nfs4Stat.LOCKS_HELD }] },
  [P.COMMIT]: { args: [{ offset: 0n, count: 0 }], res: [{ status: 0, writeverf: verf }, { status: F }] },
  [P.CREATE]: {
    args: [
      { objtype: { type: 2 }, objname: 'dir', createattrs: { mask: bitmap4(A.MODE), values: { mode: 0o755 } } },
      { objtype: { type: 5, linkdata: Buffer.from('../target/x') }, objname: 'link', createattrs: { mask: [], values: {} } },
      { objtype: { type: 4, devdata: { specdata1: 1, specdata2: 3 } }, objname: 'null', createattrs: setAttrs },
      { objtype: { type: 42 }, objname: 'odd', createattrs: { mask: [], values: {} } },
    ],
    res: [{ status: 0, cinfo, attrset: bitmap4(A.MODE) }, { status: Nfs4Stat.EXIST }],
  },
  [P.DELEGPURGE]: { args: [{ clientid: 9n }], res: st(0, Nfs4Stat.NOTSUPP) },
  [P.DELEGRETURN]: { args: [{ delegStateid: sid(1) }], res: st(0, Nfs4Stat.BAD_STATEID) },
  [P.GETATTR]: { args: [{ attrRequest: [0x0010011a, 0x00b0a23a, 0x0] }], res: [{ status: 0, attrs: getAttrs }, { status: Nfs4Stat.STALE }] },
  [P.GETFH]: { args: [undefined], res: [{ status: 0, object: fh }, { status: Nfs4Stat.NOFILEHANDLE }] },
  [P.LINK]: { args: [{ newname: 'hard' }], res: [{ status: 0, cinfo }, { status: Nfs4Stat.XDEV }] },
  [P.LOCK]: {
    args: [
      { locktype: 2, reclaim: false, offset: 0n, length: 0xffffffffffffffffn, locker: { newLockOwner: true, openSeqid: 0, openStateid: sid(2), lockSeqid: 0, lockOwner: owner } },
      { locktype: 3, reclaim: true, offset: 10n, length: 5n, locker: { newLockOwner: false, lockStateid: sid(7), lockSeqid: 1 } },
    ],
    res: [
      { status: 0, lockStateid: sid(8) },
      { status: Nfs4Stat.DENIED, denied: { offset: 0n, length: 100n, locktype: 2, owner } },
      { status: Nfs4Stat.GRACE },
    ],
  },
  [P.LOCKT]: {
    args: [{ locktype: 1, offset: 1n, length: 2n, owner }],
    res: [{ status: 0 }, { status: Nfs4Stat.DENIED, denied: { offset: 1n, length: 2n, locktype: 4, owner } }, { status: F }],
  },
  [P.LOCKU]: { args: [{ locktype: 2, seqid: 0, lockStateid: sid(5), offset: 0n, length: 1n }], res: [{ status: 0, lockStateid: sid(6) }, { status: F }] },
  [P.LOOKUP]: { args: [{ objname: 'héllo wörld' }], res: st(0, Nfs4Stat.NOENT) },
  [P.LOOKUPP]: { args: [undefined], res: st(0, Nfs4Stat.NOENT) },
  [P.NVERIFY]: { args: [{ objAttributes: getAttrs }], res: st(0, Nfs4Stat.SAME) },
  [P.OPEN]: {
    args: [
      { seqid: 0, shareAccess: 1, shareDeny: 0, owner, openhow: { opentype: 0 }, claim: { claim: 0, file: 'f' } },
      { seqid: 0, shareAccess: 3, shareDeny: 0, owner, openhow: { opentype: 1, how: { mode: 0, createattrs: setAttrs } }, claim: { claim: 4 } },
      { seqid: 0, shareAccess: 2, shareDeny: 1, owner, openhow: { opentype: 1, how: { mode: 1, createattrs: { mask: [], values: {} } } }, claim: { claim: 1, delegateType: 0 } },
      { seqid: 0, shareAccess: 2, shareDeny: 0, owner, openhow: { opentype: 1, how: { mode: 2, createverf: verf } }, claim: { claim: 2, delegateStateid: sid(1), file: 'g' } },
      { seqid: 0, shareAccess: 2, shareDeny: 0, owner, openhow: { opentype: 1, how: { mode: 3, createverf: verf, createattrs: setAttrs } }, claim: { claim: 3, file: 'h' } },
      { seqid: 0, shareAccess: 0x0401, shareDeny: 0, owner, openhow: { opentype: 0 }, claim: { claim: 5, delegateStateid: sid(2) } },
      { seqid: 0, shareAccess: 1, shareDeny: 0, owner, openhow: { opentype: 0 }, claim: { claim: 6 } },
    ],
    res: [
      { status: 0, stateid: sid(1), cinfo, rflags: 0x4, attrset: [], delegation: { type: 0 } },
      { status: 0, stateid: sid(1), cinfo, rflags: 0x4, attrset: bitmap4(A.MODE), delegation: { type: 3, whynone: { why: 0 } } },
      { status: 0, stateid: sid(1), cinfo, rflags: 0, attrset: [], delegation: { type: 3, whynone: { why: 1, flag: true } } },
      { status: 0, stateid: sid(1), cinfo, rflags: 0, attrset: [], delegation: { type: 1, read: { stateid: sid(9), recall: false, permissions: ace } } },
      {
        status: 0, stateid: sid(1), cinfo, rflags: 0, attrset: [],
        delegation: { type: 2, write: { stateid: sid(9), recall: true, spaceLimit: { limitBy: 2, numBlocks: 3, bytesPerBlock: 4096 }, permissions: { type: 0, flag: 0, accessMask: 0x1f, who: 'EVERYONE@' } } },
      },
      { status: 0, stateid: sid(1), cinfo, rflags: 0, attrset: [], delegation: { type: 2, write: { stateid: sid(9), recall: false, spaceLimit: { limitBy: 1, filesize: 1n << 40n }, permissions: ace } } },
      { status: Nfs4Stat.SHARE_DENIED },
    ],
  },
  [P.OPENATTR]: { args: [{ createdir: true }], res: st(0, Nfs4Stat.NOTSUPP) },
  [P.OPEN_CONFIRM]: { args: [{ openStateid: sid(1), seqid: 2 }], res: [{ status: 0, openStateid: sid(2) }, { status: Nfs4Stat.BAD_SEQID }] },
  [P.OPEN_DOWNGRADE]: { args: [{ openStateid: sid(1), seqid: 0, shareAccess: 1, shareDeny: 0 }], res: [{ status: 0, openStateid: sid(2) }, { status: Nfs4Stat.INVAL }] },
  [P.PUTFH]: { args: [{ object: fh }, { object: Buffer.alloc(128, 1) }], res: st(0, Nfs4Stat.BADHANDLE) },
  [P.PUTPUBFH]: { args: [undefined], res: st(0) },
  [P.PUTROOTFH]: { args: [undefined], res: st(0) },
  [P.READ]: {
    args: [{ stateid: sid(0), offset: 1n << 40n, count: 1 << 20 }],
    res: [{ status: 0, eof: true, data: Buffer.from('hello') }, { status: 0, eof: false, data: Buffer.alloc(0) }, { status: Nfs4Stat.OPENMODE }],
  },
  [P.READDIR]: {
    args: [{ cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 8192, maxcount: 32768, attrRequest: bitmap4(A.TYPE, A.FILEID, A.MOUNTED_ON_FILEID) }],
    res: [
      {
        status: 0, cookieverf: verf, eof: true,
        entries: [
          { cookie: 3n, name: 'a', attrs: { mask: bitmap4(A.TYPE, A.FILEID), values: { type: 2, fileid: 7n } } },
          { cookie: 4n, name: 'bcdef', attrs: { mask: bitmap4(A.RDATTR_ERROR), values: { rdattrError: Nfs4Stat.ACCESS } } },
        ],
      },
      { status: 0, cookieverf: verf, eof: false, entries: [] },
      { status: Nfs4Stat.NOTDIR },
    ],
  },
  [P.READLINK]: { args: [undefined], res: [{ status: 0, link: Buffer.from('/etc/hosts') }, { status: Nfs4Stat.INVAL }] },
  [P.REMOVE]: { args: [{ target: 'gone' }], res: [{ status: 0, cinfo }, { status: Nfs4Stat.NOTEMPTY }] },
  [P.RENAME]: { args: [{ oldname: 'a', newname: 'b' }], res: [{ status: 0, sourceCinfo: cinfo, targetCinfo: { atomic: false, before: 3n, after: 4n } }, { status: F }] },
  [P.RENEW]: { args: [{ clientid: 5n }], res: st(0, Nfs4Stat.EXPIRED) },
  [P.RESTOREFH]: { args: [undefined], res: st(0, Nfs4Stat.RESTOREFH) },
  [P.SAVEFH]: { args: [undefined], res: st(0) },
  [P.SECINFO]: {
    args: [{ name: 'export' }],
    res: [{ status: 0, flavors: [{ flavor: 1 }, { flavor: 0 }, { flavor: 6, oid: Buffer.from('2a864886f712010202', 'hex'), qop: 0, service: 1 }] }, { status: Nfs4Stat.WRONGSEC }],
  },
  [P.SETATTR]: {
    args: [{ stateid: sid(0), objAttributes: setAttrs }],
    res: [{ status: 0, attrsset: bitmap4(A.SIZE, A.MODE) }, { status: Nfs4Stat.PERM, attrsset: [] }],
  },
  [P.SETCLIENTID]: {
    args: [{ client: { verifier: verf, id: Buffer.from('Linux NFSv4.0 host') }, callback: { program: 0x40000000, location: netaddr }, callbackIdent: 1 }],
    res: [{ status: 0, clientid: 0x5d00000001n, setclientidConfirm: verf }, { status: Nfs4Stat.CLID_INUSE, clientUsing: netaddr }, { status: F }],
  },
  [P.SETCLIENTID_CONFIRM]: { args: [{ clientid: 1n, setclientidConfirm: verf }], res: st(0, Nfs4Stat.STALE_CLIENTID) },
  [P.VERIFY]: { args: [{ objAttributes: { mask: bitmap4(A.SIZE), values: { size: 0n } } }], res: st(0, Nfs4Stat.NOT_SAME) },
  [P.WRITE]: {
    args: [{ stateid: sid(1), offset: 4096n, stable: 0, data: Buffer.from('hello') }, { stateid: sid(1), offset: 0n, stable: 2, data: Buffer.alloc(0) }],
    res: [{ status: 0, count: 5, committed: 2, writeverf: verf }, { status: Nfs4Stat.NOSPC }],
  },
  [P.RELEASE_LOCKOWNER]: { args: [{ lockOwner: owner }], res: st(0, Nfs4Stat.LOCKS_HELD) },
  [P.BACKCHANNEL_CTL]: {
    args: [{ cbProgram: 0x40000000, secParms: [{ flavor: 0 }, { flavor: 1, sys: { stamp: 1, machinename: 'host', uid: 0, gid: 0, gids: [1, 2] } }, { flavor: 6, gss: { service: 1, handleFromServer: Buffer.from('s'), handleFromClient: Buffer.from('cc') } }] }],
    res: st(0, F),
  },
  [P.BIND_CONN_TO_SESSION]: {
    args: [{ sessid: sess, dir: 3, useConnInRdmaMode: false }],
    res: [{ status: 0, sessid: sess, dir: 3, useConnInRdmaMode: false }, { status: Nfs4Stat.BADSESSION }],
  },
  [P.EXCHANGE_ID]: {
    args: [
      { clientowner: { verifier: verf, ownerid: Buffer.from('Linux NFSv4.2 client') }, flags: 0x101, stateProtect: { how: 0 }, clientImplId: implId },
      { clientowner: { verifier: verf, ownerid: Buffer.from('x') }, flags: 0, stateProtect: { how: 1, machOps: { mustEnforce: [1 << 21], mustAllow: [] } } },
      {
        clientowner: { verifier: verf, ownerid: Buffer.from('y') }, flags: 0,
        stateProtect: { how: 2, ssvParms: { ops: { mustEnforce: [], mustAllow: [3] }, hashAlgs: [Buffer.from('oid1')], encrAlgs: [], window: 4, numGssHandles: 2 } },
      },
    ],
    res: [
      {
        status: 0, clientid: 0x123456789n, sequenceid: 1, flags: 0x10001, stateProtect: { how: 0 },
        serverOwner: { minorId: 0n, majorId: Buffer.from('nfs-localio') }, serverScope: Buffer.from('scope'), serverImplId: implId,
      },
      {
        status: 0, clientid: 1n, sequenceid: 1, flags: 0, stateProtect: { how: 2, ssvInfo: { ops: { mustEnforce: [], mustAllow: [] }, hashAlg: 1, encrAlg: 2, ssvLen: 32, window: 4, handles: [Buffer.from('h')] } },
        serverOwner: { minorId: 7n, majorId: Buffer.alloc(0) }, serverScope: Buffer.alloc(0),
      },
      { status: 0, clientid: 1n, sequenceid: 1, flags: 0, stateProtect: { how: 1, machOps: { mustEnforce: [], mustAllow: [] } }, serverOwner: { minorId: 0n, majorId: Buffer.from('m') }, serverScope: Buffer.from('s') },
      { status: Nfs4Stat.CLID_INUSE },
    ],
  },
  [P.CREATE_SESSION]: {
    args: [{ clientid: 1n, sequence: 1, flags: 3, foreChanAttrs: chan, backChanAttrs: { ...chan, rdmaIrd: 0 }, cbProgram: 0x40000000, secParms: [{ flavor: 0 }] }],
    res: [{ status: 0, sessionid: sess, sequence: 1, flags: 2, foreChanAttrs: chan, backChanAttrs: chan }, { status: Nfs4Stat.SEQ_MISORDERED }],
  },
  [P.DESTROY_SESSION]: { args: [{ sessionid: sess }], res: st(0, Nfs4Stat.BADSESSION) },
  [P.FREE_STATEID]: { args: [{ stateid: sid(3) }], res: st(0, Nfs4Stat.LOCKS_HELD) },
  [P.GET_DIR_DELEGATION]: {
    args: [{ signalDelegAvail: false, notificationTypes: [0x3], childAttrDelay: { seconds: 0n, nseconds: 0 }, dirAttrDelay: { seconds: 1n, nseconds: 2 }, childAttributes: bitmap4(A.SIZE), dirAttributes: [] }],
    res: [
      { status: 0, nonFatal: { gdd: 1, willSignalDelegAvail: false } },
      { status: 0, nonFatal: { gdd: 0, cookieverf: verf, stateid: sid(1), notification: [1], childAttributes: [], dirAttributes: bitmap4(A.CHANGE) } },
      { status: Nfs4Stat.NOTSUPP },
    ],
  },
  [P.GETDEVICEINFO]: {
    args: [{ deviceId: Buffer.alloc(16, 3), layoutType: 1, maxcount: 4096, notifyTypes: [] }],
    res: [{ status: 0, layoutType: LAYOUT_OPAQUE, addrBody: Buffer.from('addr'), notification: [] }, { status: Nfs4Stat.TOOSMALL, mincount: 8192 }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.GETDEVICELIST]: {
    args: [{ layoutType: 1, maxdevices: 10, cookie: 0n, cookieverf: verf }],
    res: [{ status: 0, cookie: 1n, cookieverf: verf, deviceIds: [Buffer.alloc(16, 1), Buffer.alloc(16, 2)], eof: true }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.LAYOUTCOMMIT]: {
    args: [
      { offset: 0n, length: 10n, reclaim: false, stateid: sid(1), lastWriteOffset: 9n, timeModify: { seconds: -1n, nseconds: 0 }, layoutType: 1, layoutBody: Buffer.alloc(0) },
      { offset: 0n, length: 10n, reclaim: true, stateid: sid(1), layoutType: 4, layoutBody: Buffer.from('b') },
    ],
    res: [{ status: 0, newSize: 10n }, { status: 0 }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.LAYOUTGET]: {
    args: [{ signalLayoutAvail: false, layoutType: 1, iomode: 2, offset: 0n, length: 0xffffffffffffffffn, minlength: 4096n, stateid: sid(1), maxcount: 4096 }],
    res: [
      { status: 0, returnOnClose: true, stateid: sid(2), layouts: [{ offset: 0n, length: 4096n, iomode: 1, type: LAYOUT_OPAQUE, body: Buffer.from('layout') }] },
      { status: Nfs4Stat.LAYOUTTRYLATER, willSignalLayoutAvail: true },
      { status: Nfs4Stat.LAYOUTUNAVAILABLE },
    ],
  },
  [P.LAYOUTRETURN]: {
    args: [
      { reclaim: false, layoutType: 1, iomode: 3, layoutreturn: { returnType: 1, offset: 0n, length: 5n, stateid: sid(1), body: Buffer.from('xy') } },
      { reclaim: false, layoutType: 1, iomode: 3, layoutreturn: { returnType: 3 } },
    ],
    res: [{ status: 0, stateid: sid(3) }, { status: 0 }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.SECINFO_NO_NAME]: { args: [{ style: 0 }, { style: 1 }], res: [{ status: 0, flavors: [{ flavor: 1 }] }, { status: Nfs4Stat.NOENT }] },
  [P.SEQUENCE]: {
    args: [{ sessionid: sess, sequenceid: 0xffffffff, slotid: 0, highestSlotid: 63, cachethis: true }],
    res: [{ status: 0, sessionid: sess, sequenceid: 1, slotid: 0, highestSlotid: 63, targetHighestSlotid: 63, statusFlags: 0x100 }, { status: Nfs4Stat.BADSESSION }],
  },
  [P.SET_SSV]: { args: [{ ssv: Buffer.from('ssv'), digest: Buffer.from('digest!') }], res: [{ status: 0, digest: Buffer.from('d') }, { status: Nfs4Stat.NOTSUPP }] },
  [P.TEST_STATEID]: { args: [{ stateids: [sid(1), sid(2)] }, { stateids: [] }], res: [{ status: 0, statusCodes: [0, Nfs4Stat.BAD_STATEID] }, { status: F }] },
  [P.WANT_DELEGATION]: {
    args: [{ want: 0x300, claim: { claim: 4 } }, { want: 0, claim: { claim: 1, delegateType: 1 } }, { want: 0, claim: { claim: 6 } }],
    res: [{ status: 0, delegation: { type: 3, whynone: { why: 2, flag: false } } }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.DESTROY_CLIENTID]: { args: [{ clientid: 77n }], res: st(0, Nfs4Stat.CLIENTID_BUSY) },
  [P.RECLAIM_COMPLETE]: { args: [{ oneFs: false }], res: st(0, Nfs4Stat.COMPLETE_ALREADY) },
  [P.ALLOCATE]: { args: [{ stateid: sid(1), offset: 0n, length: 1n << 30n }], res: st(0, Nfs4Stat.NOSPC) },
  [P.COPY]: {
    args: [
      { srcStateid: sid(1), dstStateid: sid(2), srcOffset: 0n, dstOffset: 10n, count: 0n, consecutive: false, synchronous: true, sourceServers: [] },
      { srcStateid: sid(1), dstStateid: sid(2), srcOffset: 0n, dstOffset: 0n, count: 5n, consecutive: true, synchronous: false, sourceServers: [{ type: 1, name: 'srv' }, { type: 2, url: 'nfs://x/y' }, { type: 3, addr: netaddr }] },
    ],
    res: [
      { status: 0, response: { count: 100n, committed: 2, writeverf: verf }, requirements: { consecutive: true, synchronous: true } },
      { status: 0, response: { callbackId: sid(5), count: 0n, committed: 0, writeverf: verf }, requirements: { consecutive: false, synchronous: false } },
      { status: Nfs4Stat.OFFLOAD_NO_REQS, requirements: { consecutive: true, synchronous: false } },
      { status: Nfs4Stat.NOTSUPP },
    ],
  },
  [P.COPY_NOTIFY]: {
    args: [{ srcStateid: sid(1), destinationServer: { type: 1, name: 'dst' } }],
    res: [{ status: 0, leaseTime: { seconds: 90n, nseconds: 0 }, stateid: sid(2), sourceServers: [{ type: 3, addr: netaddr }] }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.DEALLOCATE]: { args: [{ stateid: sid(1), offset: 4096n, length: 8192n }], res: st(0, Nfs4Stat.NOTSUPP) },
  [P.IO_ADVISE]: { args: [{ stateid: sid(1), offset: 0n, count: 0n, hints: [1 << 4] }], res: [{ status: 0, hints: [] }, { status: Nfs4Stat.NOTSUPP }] },
  [P.LAYOUTERROR]: {
    args: [{ offset: 0n, length: 1n, stateid: sid(1), errors: [{ deviceId: Buffer.alloc(16, 9), status: Nfs4Stat.IO, opnum: P.READ }] }],
    res: st(0, Nfs4Stat.NOTSUPP),
  },
  [P.LAYOUTSTATS]: {
    args: [{ offset: 0n, length: 1n, stateid: sid(1), read: { count: 1n, bytes: 2n }, write: { count: 3n, bytes: 4n }, deviceId: Buffer.alloc(16), layoutType: LAYOUT_OPAQUE, layoutBody: Buffer.from('ff') }],
    res: st(0, Nfs4Stat.NOTSUPP),
  },
  [P.OFFLOAD_CANCEL]: { args: [{ stateid: sid(4) }], res: st(0, Nfs4Stat.NOTSUPP) },
  [P.OFFLOAD_STATUS]: { args: [{ stateid: sid(4) }], res: [{ status: 0, count: 10n }, { status: 0, count: 10n, complete: 0 }, { status: Nfs4Stat.NOTSUPP }] },
  [P.READ_PLUS]: {
    args: [{ stateid: sid(1), offset: 0n, count: 65536 }],
    res: [
      { status: 0, eof: true, contents: [{ type: 0, offset: 0n, data: Buffer.from('abc') }, { type: 1, offset: 3n, length: 4093n }, { type: 0, offset: 4096n, data: Buffer.from('wxyz') }] },
      { status: 0, eof: false, contents: [] },
      { status: Nfs4Stat.NOTSUPP },
    ],
  },
  [P.SEEK]: { args: [{ stateid: sid(1), offset: 0n, what: 1 }], res: [{ status: 0, eof: false, offset: 4096n }, { status: Nfs4Stat.NXIO }] },
  [P.WRITE_SAME]: {
    args: [{ stateid: sid(1), stable: 1, adb: { offset: 0n, blockSize: 512n, blockCount: 8n, reloffBlocknum: 0n, blockNum: 0, reloffPattern: 0n, pattern: Buffer.from('pat') } }],
    res: [{ status: 0, response: { count: 4096n, committed: 1, writeverf: verf } }, { status: Nfs4Stat.NOTSUPP }],
  },
  [P.CLONE]: { args: [{ srcStateid: sid(1), dstStateid: sid(2), srcOffset: 0n, dstOffset: 0n, count: 0n }], res: st(0, Nfs4Stat.NOTSUPP) },
  [P.GETXATTR]: { args: [{ name: 'comment' }], res: [{ status: 0, value: Buffer.from('some value') }, { status: Nfs4Stat.NOXATTR }] },
  [P.SETXATTR]: {
    args: [{ option: 1, key: 'comment', value: Buffer.from('v') }, { option: 0, key: 'a/b..c', value: Buffer.alloc(0) }],
    res: [{ status: 0, cinfo }, { status: Nfs4Stat.XATTR2BIG }],
  },
  [P.LISTXATTRS]: { args: [{ cookie: 0n, maxcount: 4096 }], res: [{ status: 0, cookie: 2n, names: ['comment', 'mime_type'], eof: true }, { status: Nfs4Stat.TOOSMALL }] },
  [P.REMOVEXATTR]: { args: [{ name: 'comment' }], res: [{ status: 0, cinfo }, { status: Nfs4Stat.NOXATTR }] },
};
