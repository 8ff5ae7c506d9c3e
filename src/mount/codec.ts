/**
 * XDR of MOUNT v3 arguments and results (RFC 1813 Appendix I). Decoders for
 * both directions so the client and tests share them with the server.
 */
import { XdrError, type XdrReader, type XdrWriter } from '../xdr/index.js';
import { FHSIZE3, MNTNAMLEN, MNTPATHLEN, type MountStatus } from './constants.js';
import type { ExportNode, MntRes, MountEntry } from './types.js';

/** Bounds for lists read back by a client: a server may not make us allocate without limit. */
const MAX_FLAVORS = 64;
const MAX_LIST = 100_000;

// typedef string dirpath<MNTPATHLEN>;   (argument of MNT and UMNT)
export function decodeDirpath(r: XdrReader): string {
  return r.string(MNTPATHLEN);
}
export function encodeDirpath(w: XdrWriter, path: string): void {
  if (Buffer.byteLength(path) > MNTPATHLEN) throw new XdrError('XDR_TOO_LONG', `dirpath longer than ${MNTPATHLEN} bytes`);
  w.string(path);
}

// struct mountres3_ok { fhandle3 fhandle; int auth_flavors<>; };
// union mountres3 switch (mountstat3 fhs_status) {
// case MNT3_OK: mountres3_ok mountinfo;
// default: void; };
export function encodeMntRes(w: XdrWriter, res: MntRes): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.opaque(res.fhandle);
  w.uint32(res.authFlavors.length);
  for (const f of res.authFlavors) w.int32(f);
}
export function decodeMntRes(r: XdrReader): MntRes {
  const status = r.uint32() as MountStatus;
  if (status !== 0) return { status };
  const fhandle = r.opaque(FHSIZE3);
  const authFlavors = r.array(MAX_FLAVORS, (x) => x.int32());
  return { status: 0, fhandle, authFlavors };
}

// typedef struct mountbody *mountlist;
// struct mountbody { name ml_hostname; dirpath ml_directory; mountlist ml_next; };
export function encodeMountList(w: XdrWriter, list: readonly MountEntry[]): void {
  for (const m of list) w.bool(true).string(m.hostname).string(m.directory);
  w.bool(false);
}
export function decodeMountList(r: XdrReader): MountEntry[] {
  const out: MountEntry[] = [];
  while (r.bool()) {
    if (out.length >= MAX_LIST) throw new XdrError('XDR_TOO_LONG', 'mount list too long');
    const hostname = r.string(MNTNAMLEN);
    out.push({ hostname, directory: r.string(MNTPATHLEN) });
  }
  return out;
}

// typedef struct groupnode *groups;
// struct groupnode { name gr_name; groups gr_next; };
// typedef struct exportnode *exports;
// struct exportnode { dirpath ex_dir; groups ex_groups; exports ex_next; };
export function encodeExports(w: XdrWriter, list: readonly ExportNode[]): void {
  for (const e of list) {
    w.bool(true).string(e.dir);
    for (const g of e.groups) w.bool(true).string(g);
    w.bool(false);
  }
  w.bool(false);
}
export function decodeExports(r: XdrReader): ExportNode[] {
  const out: ExportNode[] = [];
  let n = 0;
  while (r.bool()) {
    const dir = r.string(MNTPATHLEN);
    const groups: string[] = [];
    while (r.bool()) {
      if (++n > MAX_LIST) throw new XdrError('XDR_TOO_LONG', 'export list too long');
      groups.push(r.string(MNTNAMLEN));
    }
    if (++n > MAX_LIST) throw new XdrError('XDR_TOO_LONG', 'export list too long');
    out.push({ dir, groups });
  }
  return out;
}
