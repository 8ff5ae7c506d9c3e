/**
 * XDR of the NFSv4 basic data types (spec/nfs4.x "Basic data types" and the
 * structures shared by several operations). Readers bound every length by
 * the limits before anything is allocated (XdrReader checks the bytes left);
 * small values that may outlive the record (handles, stateids, verifiers,
 * owners) are copied out of it, bulk data is not (see the op decoders).
 */
import { isUtf8 } from 'node:buffer';
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { NFS4_FHSIZE, NFS4_OTHER_SIZE, NFS4_SESSIONID_SIZE, NFS4_VERIFIER_SIZE, TimeHow4 } from '../constants.js';
import type {
  AuthsysParms, CallbackSecParms4, ChangeInfo4, ChannelAttrs4, ClientOwner4, Fsid4, Netaddr4, Netloc4, NfsImplId4,
  Nfstime4, ServerOwner4, Settime4, Specdata4, StateOwner4, Stateid4,
} from '../types.js';
import { Nfs4CodecError } from './errors.js';
import type { Nfs4Limits } from './limits.js';

/** opaque<max>, copied out of the record. */
export function readOpaqueCopy(r: XdrReader, max: number): Buffer {
  return Buffer.from(r.opaque(max));
}

/** opaque[n] written from a Buffer that must be exactly n bytes (a wrong size is a bug of the caller). */
export function writeFixed(w: XdrWriter, b: Buffer, n: number, what: string): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, not ${b.length}`);
  w.fixedOpaque(b);
}

// typedef opaque nfs_fh4<NFS4_FHSIZE>;
/** A file handle, copied. An empty one passes: the server's handle gate answers NFS4ERR_BADHANDLE. */
export function readFh4(r: XdrReader): Buffer {
  return readOpaqueCopy(r, NFS4_FHSIZE);
}
export function writeFh4(w: XdrWriter, fh: Buffer): void {
  w.opaque(fh);
}

// typedef opaque verifier4[NFS4_VERIFIER_SIZE];
export function readVerifier(r: XdrReader): Buffer {
  return Buffer.from(r.fixedOpaque(NFS4_VERIFIER_SIZE));
}
export function writeVerifier(w: XdrWriter, v: Buffer): void {
  writeFixed(w, v, NFS4_VERIFIER_SIZE, 'verifier4');
}

// typedef opaque sessionid4[NFS4_SESSIONID_SIZE];
export function readSessionid(r: XdrReader): Buffer {
  return Buffer.from(r.fixedOpaque(NFS4_SESSIONID_SIZE));
}
export function writeSessionid(w: XdrWriter, s: Buffer): void {
  writeFixed(w, s, NFS4_SESSIONID_SIZE, 'sessionid4');
}

// struct stateid4 { uint32_t seqid; opaque other[NFS4_OTHER_SIZE]; };
export function readStateid(r: XdrReader): Stateid4 {
  const seqid = r.uint32();
  return { seqid, other: Buffer.from(r.fixedOpaque(NFS4_OTHER_SIZE)) };
}
export function writeStateid(w: XdrWriter, s: Stateid4): void {
  w.uint32(s.seqid);
  writeFixed(w, s.other, NFS4_OTHER_SIZE, 'stateid4.other');
}

// typedef utf8str_cs component4;
/**
 * A file name, checked as knfsd's check_filename does while decoding: empty
 * → INVAL, longer than maxName → NAMETOOLONG, ".", ".." or a '/' →
 * BADNAME. We also refuse NUL (BADNAME) and invalid UTF-8 (INVAL, RFC 8881
 * section 14.5): names reach the backend as JS strings, and a lossy decode
 * could make two byte names one.
 */
export function readComponent(r: XdrReader, lim: Nfs4Limits): string {
  const len = r.uint32();
  const b = r.fixedOpaque(len);
  if (len === 0) throw new Nfs4CodecError('NFS4_NAME_EMPTY', 'empty component4');
  if (len > lim.maxName) throw new Nfs4CodecError('NFS4_NAME_TOO_LONG', `component4 of ${len} bytes exceeds ${lim.maxName}`);
  if (b.indexOf(0x2f) !== -1 || b.indexOf(0) !== -1) throw new Nfs4CodecError('NFS4_NAME_BAD', "component4 holds '/' or NUL");
  if ((len === 1 && b[0] === 0x2e) || (len === 2 && b[0] === 0x2e && b[1] === 0x2e)) {
    throw new Nfs4CodecError('NFS4_NAME_BAD', `component4 "${b.toString()}"`);
  }
  if (!isUtf8(b)) throw new Nfs4CodecError('NFS4_NAME_NOT_UTF8', 'component4 is not UTF-8');
  return b.toString('utf8');
}

/**
 * An xattr name (xattrkey4, RFC 8276): a component4, but what makes a bad
 * xattr name differs (knfsd's nfsd4_decode_xattr_name): empty → BADXDR,
 * too long → NAMETOOLONG; '/' and dots are fine, NUL and invalid UTF-8 not.
 */
export function readXattrKey(r: XdrReader, lim: Nfs4Limits): string {
  const len = r.uint32();
  const b = r.fixedOpaque(len);
  if (len === 0) throw new Nfs4CodecError('NFS4_BAD_VALUE', 'empty xattr name');
  if (len > lim.maxName) throw new Nfs4CodecError('NFS4_NAME_TOO_LONG', `xattr name of ${len} bytes exceeds ${lim.maxName}`);
  if (b.indexOf(0) !== -1) throw new Nfs4CodecError('NFS4_NAME_BAD', 'xattr name holds NUL');
  if (!isUtf8(b)) throw new Nfs4CodecError('NFS4_NAME_NOT_UTF8', 'xattr name is not UTF-8');
  return b.toString('utf8');
}

/** utf8string<max> as a JS string (owners, implementation ids, netids): not a name, so no checks but the bound. */
export function readUtf8(r: XdrReader, max: number): string {
  return r.string(max);
}
export function writeUtf8(w: XdrWriter, s: string): void {
  w.string(s);
}

// struct nfstime4 { int64_t seconds; uint32_t nseconds; };
/** `strict`: a time a client sends to be set or used (knfsd refuses nseconds ≥ 10^9 with INVAL). */
export function readNfstime(r: XdrReader, strict = false): Nfstime4 {
  const seconds = r.int64();
  const nseconds = r.uint32();
  if (strict && nseconds >= 1e9) throw new Nfs4CodecError('NFS4_TIME_BAD', `nfstime4 nseconds ${nseconds}`);
  return { seconds, nseconds };
}
export function writeNfstime(w: XdrWriter, t: Nfstime4): void {
  w.int64(t.seconds).uint32(t.nseconds);
}

// union settime4 switch (time_how4 set_it) { case SET_TO_CLIENT_TIME4: nfstime4 time; default: void; };
/** The default arm is void, but time_how4 has two values: any other is bad XDR (as knfsd). */
export function readSettime(r: XdrReader): Settime4 {
  const how = r.uint32();
  if (how === TimeHow4.SET_TO_CLIENT_TIME) return readNfstime(r, true);
  if (how === TimeHow4.SET_TO_SERVER_TIME) return 'server';
  throw new Nfs4CodecError('NFS4_BAD_VALUE', `bad time_how4 ${how}`);
}
export function writeSettime(w: XdrWriter, t: Settime4): void {
  if (t === 'server') w.uint32(TimeHow4.SET_TO_SERVER_TIME);
  else writeNfstime(w.uint32(TimeHow4.SET_TO_CLIENT_TIME), t);
}

// struct change_info4 { bool atomic; changeid4 before; changeid4 after; };
export function readChangeInfo(r: XdrReader): ChangeInfo4 {
  const atomic = r.bool();
  const before = r.uint64();
  return { atomic, before, after: r.uint64() };
}
export function writeChangeInfo(w: XdrWriter, c: ChangeInfo4): void {
  w.bool(c.atomic).uint64(c.before).uint64(c.after);
}

// struct state_owner4 { clientid4 clientid; opaque owner<NFS4_OPAQUE_LIMIT>; };
export function readStateOwner(r: XdrReader, lim: Nfs4Limits): StateOwner4 {
  const clientid = r.uint64();
  return { clientid, owner: readOpaqueCopy(r, lim.maxOwner) };
}
export function writeStateOwner(w: XdrWriter, o: StateOwner4): void {
  w.uint64(o.clientid).opaque(o.owner);
}

// struct specdata4 { uint32_t specdata1; uint32_t specdata2; };
export function readSpecdata(r: XdrReader): Specdata4 {
  const specdata1 = r.uint32();
  return { specdata1, specdata2: r.uint32() };
}
export function writeSpecdata(w: XdrWriter, s: Specdata4): void {
  w.uint32(s.specdata1).uint32(s.specdata2);
}

// struct fsid4 { uint64_t major; uint64_t minor; };
export function readFsid(r: XdrReader): Fsid4 {
  const major = r.uint64();
  return { major, minor: r.uint64() };
}
export function writeFsid(w: XdrWriter, f: Fsid4): void {
  w.uint64(f.major).uint64(f.minor);
}

// struct netaddr4 { string na_r_netid<>; string na_r_addr<>; };
export function readNetaddr(r: XdrReader, lim: Nfs4Limits): Netaddr4 {
  const netid = readUtf8(r, lim.maxOwner);
  return { netid, addr: readUtf8(r, lim.maxOwner) };
}
export function writeNetaddr(w: XdrWriter, a: Netaddr4): void {
  w.string(a.netid).string(a.addr);
}

// struct nfs_impl_id4 { utf8str_cis nii_domain; utf8str_cs nii_name; nfstime4 nii_date; };
export function readImplId(r: XdrReader, lim: Nfs4Limits): NfsImplId4 {
  const domain = readUtf8(r, lim.maxOwner);
  const name = readUtf8(r, lim.maxOwner);
  return { domain, name, date: readNfstime(r) };
}
export function writeImplId(w: XdrWriter, i: NfsImplId4): void {
  w.string(i.domain).string(i.name);
  writeNfstime(w, i.date);
}

/** An XDR array<1> read as an optional value: more than one element is bad XDR. */
export function readOptional<T>(r: XdrReader, read: (r: XdrReader) => T): T | undefined {
  const n = r.uint32();
  if (n > 1) throw new Nfs4CodecError('NFS4_TOO_LONG', `array<1> of ${n} elements`);
  return n === 1 ? read(r) : undefined;
}
export function writeOptional<T>(w: XdrWriter, v: T | undefined, write: (w: XdrWriter, v: T) => void): void {
  w.uint32(v === undefined ? 0 : 1);
  if (v !== undefined) write(w, v);
}

/** A counted array of any length up to `max` elements. */
export function writeArray<T>(w: XdrWriter, items: readonly T[], write: (w: XdrWriter, v: T) => void): void {
  w.uint32(items.length);
  for (const v of items) write(w, v);
}

// struct client_owner4 { verifier4 co_verifier; opaque co_ownerid<NFS4_OPAQUE_LIMIT>; };
export function readClientOwner(r: XdrReader, lim: Nfs4Limits): ClientOwner4 {
  const verifier = readVerifier(r);
  return { verifier, ownerid: readOpaqueCopy(r, lim.maxOwner) };
}
export function writeClientOwner(w: XdrWriter, c: ClientOwner4): void {
  writeVerifier(w, c.verifier);
  w.opaque(c.ownerid);
}

// struct server_owner4 { uint64_t so_minor_id; opaque so_major_id<NFS4_OPAQUE_LIMIT>; };
export function readServerOwner(r: XdrReader, lim: Nfs4Limits): ServerOwner4 {
  const minorId = r.uint64();
  return { minorId, majorId: readOpaqueCopy(r, lim.maxOwner) };
}
export function writeServerOwner(w: XdrWriter, s: ServerOwner4): void {
  w.uint64(s.minorId).opaque(s.majorId);
}

// struct channel_attrs4 { count4 ca_headerpadsize; ... count4 ca_maxrequests; uint32_t ca_rdma_ird<1>; };
export function readChannelAttrs(r: XdrReader): ChannelAttrs4 {
  const headerPadSize = r.uint32();
  const maxRequestSize = r.uint32();
  const maxResponseSize = r.uint32();
  const maxResponseSizeCached = r.uint32();
  const maxOperations = r.uint32();
  const maxRequests = r.uint32();
  const rdmaIrd = readOptional(r, (x) => x.uint32());
  const a: ChannelAttrs4 = { headerPadSize, maxRequestSize, maxResponseSize, maxResponseSizeCached, maxOperations, maxRequests };
  if (rdmaIrd !== undefined) a.rdmaIrd = rdmaIrd;
  return a;
}
export function writeChannelAttrs(w: XdrWriter, a: ChannelAttrs4): void {
  w.uint32(a.headerPadSize).uint32(a.maxRequestSize).uint32(a.maxResponseSize);
  w.uint32(a.maxResponseSizeCached).uint32(a.maxOperations).uint32(a.maxRequests);
  writeOptional(w, a.rdmaIrd, (x, v) => x.uint32(v));
}

// struct authsys_parms { unsigned int stamp; string machinename<255>; unsigned int uid, gid; unsigned int gids<16>; };
function readAuthsys(r: XdrReader): AuthsysParms {
  const stamp = r.uint32();
  const machinename = r.string(255);
  const uid = r.uint32();
  const gid = r.uint32();
  return { stamp, machinename, uid, gid, gids: r.array(16, (x) => x.uint32()) };
}

// union callback_sec_parms4 switch (uint32_t cb_secflavor) {
// case AUTH_NONE: void; case AUTH_SYS: authsys_parms; case RPCSEC_GSS: gss_cb_handles4; };
/** A flavor with no arm is bad XDR (the union has no default). */
export function readCallbackSecParms(r: XdrReader, lim: Nfs4Limits): CallbackSecParms4 {
  const flavor = r.uint32();
  if (flavor === 0) return { flavor };
  if (flavor === 1) return { flavor, sys: readAuthsys(r) };
  if (flavor === 6) {
    const service = r.uint32();
    const handleFromServer = readOpaqueCopy(r, lim.maxOpaque);
    return { flavor, gss: { service, handleFromServer, handleFromClient: readOpaqueCopy(r, lim.maxOpaque) } };
  }
  throw new Nfs4CodecError('NFS4_BAD_VALUE', `bad callback_sec_parms4 flavor ${flavor}`);
}
export function writeCallbackSecParms(w: XdrWriter, p: CallbackSecParms4): void {
  w.uint32(p.flavor);
  if (p.flavor === 1) {
    const s = p.sys;
    w.uint32(s.stamp).string(s.machinename).uint32(s.uid).uint32(s.gid);
    writeArray(w, s.gids, (x, g) => x.uint32(g));
  } else if (p.flavor === 6) {
    w.uint32(p.gss.service).opaque(p.gss.handleFromServer).opaque(p.gss.handleFromClient);
  }
}

// union netloc4 switch (netloc_type4 nl_type) { case NL4_NAME: utf8str_cis; case NL4_URL: utf8str_cis; case NL4_NETADDR: netaddr4; };
export function readNetloc(r: XdrReader, lim: Nfs4Limits): Netloc4 {
  const type = r.uint32();
  if (type === 1) return { type, name: readUtf8(r, lim.maxOwner) };
  if (type === 2) return { type, url: readUtf8(r, lim.maxOwner) };
  if (type === 3) return { type, addr: readNetaddr(r, lim) };
  throw new Nfs4CodecError('NFS4_BAD_VALUE', `bad netloc_type4 ${type}`);
}
export function writeNetloc(w: XdrWriter, n: Netloc4): void {
  w.uint32(n.type);
  if (n.type === 1) w.string(n.name);
  else if (n.type === 2) w.string(n.url);
  else writeNetaddr(w, n.addr);
}
