/**
 * What the fs layer (client.ts, filehandle.ts, io.ts, dir.ts) asks of a
 * protocol version: NFSv3's procedures, in v3's shapes. Nfs3Raw is them on
 * the wire; on NFSv4 (v4/fs.ts) each is a COMPOUND answering in the same
 * shapes, so the fs layer — and every error it reports — is one code path
 * for both versions. Statuses are nfsstat3 values; on v4 they are nfsstat4
 * values, which keep v3's numbers for every status v3 has.
 *
 * What v4 needs beyond v3 travels in the optional `st` argument: the state
 * of an open file (its open or lock stateid) for READ, WRITE and SETATTR.
 * v3 ignores it.
 */
import type { StableHow3Value } from '../nfs3/constants.js';
import type {
  AccessRes, CommitRes, CreateHow3, CreateRes, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes, MkdirRes, MknodData,
  MknodRes, Nfstime3, PathconfRes, ReadRes, ReaddirRes, ReaddirplusRes, ReadlinkRes, RemoveRes, RenameRes, RmdirRes, Sattr3,
  SetattrRes, SymlinkRes, WriteRes,
} from '../nfs3/types.js';
import type { Stateid4 } from '../nfs4/types.js';
import type { ReadChunksRes } from './raw.js';

/** An open file's NFSv4 state, as its I/O carries it. */
export interface StateRef {
  /** The stateid READ, WRITE and SETATTR carry now (the lock stateid while locks are held, else the open's). Throws once the state is lost. */
  readonly stateid: Stateid4;
  /** Throws the handle's typed error once its state is lost (revoked, or not reclaimed after a server restart). */
  check(): void;
  /**
   * Before I/O that does not go over the wire (LOCALIO): undefined when the state is known to be
   * current, else a promise that settles once it is — when the lease may have run out since the server
   * last answered, a SEQUENCE first, so a lost state is found before local I/O uses it.
   */
  ready?(): Promise<void> | undefined;
}

export interface NfsProcs {
  null(): Promise<void>;
  getattr(fh: Buffer): Promise<GetattrRes>;
  setattr(fh: Buffer, attrs: Sattr3, guard?: Nfstime3, st?: StateRef): Promise<SetattrRes>;
  lookup(dir: Buffer, name: string): Promise<LookupRes>;
  access(fh: Buffer, access: number): Promise<AccessRes>;
  readlink(fh: Buffer): Promise<ReadlinkRes>;
  read(fh: Buffer, offset: number | bigint, count: number, st?: StateRef): Promise<ReadRes>;
  readChunks(fh: Buffer, offset: number | bigint, count: number, st?: StateRef): Promise<ReadChunksRes>;
  write(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value, st?: StateRef): Promise<WriteRes>;
  writeLent(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value, st?: StateRef): Promise<WriteRes>;
  create(dir: Buffer, name: string, how: CreateHow3): Promise<CreateRes>;
  mkdir(dir: Buffer, name: string, attrs?: Sattr3): Promise<MkdirRes>;
  symlink(dir: Buffer, name: string, target: string | Buffer, attrs?: Sattr3): Promise<SymlinkRes>;
  mknod(dir: Buffer, name: string, what: MknodData): Promise<MknodRes>;
  remove(dir: Buffer, name: string): Promise<RemoveRes>;
  rmdir(dir: Buffer, name: string): Promise<RmdirRes>;
  rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<RenameRes>;
  link(fh: Buffer, dir: Buffer, name: string): Promise<LinkRes>;
  readdir(fh: Buffer, cookie?: number | bigint, cookieverf?: Buffer, count?: number): Promise<ReaddirRes>;
  readdirplus(fh: Buffer, cookie?: number | bigint, cookieverf?: Buffer, dircount?: number, maxcount?: number): Promise<ReaddirplusRes>;
  fsstat(fh: Buffer): Promise<FsstatRes>;
  fsinfo(fh: Buffer): Promise<FsinfoRes>;
  pathconf(fh: Buffer): Promise<PathconfRes>;
  commit(fh: Buffer, offset?: number | bigint, count?: number): Promise<CommitRes>;
}
