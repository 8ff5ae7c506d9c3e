/**
 * The records NFSv4 state is made of, as plain data: clients, their sessions, open and lock
 * owners, and the open and lock states (stateids) that tie an owner to a file. Everything is
 * reachable from the client records by ids and keys, so the whole can be written out and read
 * back (the stable records of the restart issue build on this).
 */
import type { ChannelAttrs4 } from '../types.js';
import type { RangeLocks } from './ranges.js';
import type { SlotTable } from './slots.js';

export interface ClientRecord {
  /** clientid4. */
  readonly id: bigint;
  /** co_ownerid: the client's stable name. */
  readonly ownerId: Buffer;
  /** co_verifier: changes when the client reboots. */
  readonly verifier: Buffer;
  /** Who made it (AUTH_SYS uid or AUTH_NONE), for the EXCHANGE_ID / CREATE_SESSION principal checks. */
  readonly principal: string;
  confirmed: boolean;
  /** The CREATE_SESSION slot: the last csa_sequence and its result, replayed for a retransmission. */
  csSeqid: number;
  csReply?: unknown;
  /** When the lease was last renewed (ms, the state's clock). */
  renewed: number;
  reclaimComplete: boolean;
  readonly sessions: Map<string, SessionRecord>;
  /** Open and lock owners, by owner bytes (hex). */
  readonly openOwners: Map<string, OwnerRecord>;
  readonly lockOwners: Map<string, OwnerRecord>;
  /** Where it connects from, for status. */
  readonly address: string;
  readonly since: number;
  /** eia_client_impl_id's name, when given (status). */
  readonly implName?: string;
}

export interface SessionRecord {
  /** sessionid4, 16 bytes. */
  readonly id: Buffer;
  readonly client: ClientRecord;
  readonly fore: ChannelAttrs4;
  readonly back: ChannelAttrs4;
  readonly flags: number;
  cbProgram: number;
  readonly slots: SlotTable;
  /** Connections bound to the fore channel, and to the back channel. */
  readonly foreConns: Set<number>;
  readonly backConns: Set<number>;
  /** The session had a back channel at some point (the client asked for one). */
  readonly wantsBack: boolean;
  readonly since: number;
}

/** An open owner or a lock owner: (client, opaque owner). */
export interface OwnerRecord {
  readonly kind: 'open' | 'lock';
  readonly client: ClientRecord;
  readonly owner: Buffer;
  /** The states it holds, by file key. */
  readonly states: Map<string, OpenState | LockState>;
}

/** What the state knows of a file: the opens on it and its byte-range locks. */
export interface FileRecord {
  /** Export id and node key: the same for every handle of the file. */
  readonly key: string;
  readonly opens: Set<OpenState>;
  readonly locks: RangeLocks;
  /** Lock states on it (their owners' locks live in `locks`). */
  readonly lockStates: Set<LockState>;
  /**
   * Lets go of what keeps the file reachable while it is open (the storage's hold: an open file
   * outlives its last name, as in POSIX); called when the record goes with its last open.
   */
  release?: () => void;
}

export interface StateBase {
  readonly other: Buffer;
  seqid: number;
  readonly client: ClientRecord;
  readonly owner: OwnerRecord;
  readonly file: FileRecord;
  /** The handle the state was made on (status, and what a reclaim needs). */
  readonly fh: Buffer;
}

export interface OpenState extends StateBase {
  readonly type: 'open';
  /** Union of the share_access / share_deny now in effect. */
  access: number;
  deny: number;
  /** The (access, deny) pairs of the OPENs in effect, as access | deny << 2 (OPEN_DOWNGRADE's subsets). */
  readonly modes: Set<number>;
  readonly locks: Set<LockState>;
}

export interface LockState extends StateBase {
  readonly type: 'lock';
  readonly open: OpenState;
}

export type StateRecord = OpenState | LockState;
