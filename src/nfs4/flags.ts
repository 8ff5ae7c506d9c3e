/**
 * NFSv4 flag words and small enums (RFC 8881, RFC 7862, RFC 8276), as
 * spec/nfs4.x gives them; re-exported by constants.ts.
 */

/** fh_expire_type values. */
export const Fh4Expire = {
  PERSISTENT: 0x0,
  NOEXPIRE_WITH_OPEN: 0x1,
  VOLATILE_ANY: 0x2,
  VOL_MIGRATION: 0x4,
  VOL_RENAME: 0x8,
} as const;

/** aclsupport bits. */
export const Acl4Support = { ALLOW_ACL: 0x1, DENY_ACL: 0x2, AUDIT_ACL: 0x4, ALARM_ACL: 0x8 } as const;

/** change_attr_type4 (4.2). */
export const ChangeAttrType4 = {
  MONOTONIC_INCR: 0,
  VERSION_COUNTER: 1,
  VERSION_COUNTER_NOPNFS: 2,
  TIME_METADATA: 3,
  UNDEFINED: 4,
} as const;

/** ACCESS4 bits (RFC 8881 section 18.1, RFC 8276 section 8.4.1). */
export const Access4 = {
  READ: 0x001,
  LOOKUP: 0x002,
  MODIFY: 0x004,
  EXTEND: 0x008,
  DELETE: 0x010,
  EXECUTE: 0x020,
  XAREAD: 0x040,
  XAWRITE: 0x080,
  XALIST: 0x100,
} as const;

/** stable_how4. */
export const StableHow4 = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;
export type StableHow4Value = (typeof StableHow4)[keyof typeof StableHow4];

/** time_how4 (settime4's discriminant). */
export const TimeHow4 = { SET_TO_SERVER_TIME: 0, SET_TO_CLIENT_TIME: 1 } as const;

/** nfs_lock_type4. */
export const LockType4 = { READ: 1, WRITE: 2, READW: 3, WRITEW: 4 } as const;
export type LockType4Value = (typeof LockType4)[keyof typeof LockType4];

/** createmode4 (OPEN). */
export const CreateMode4 = { UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2, EXCLUSIVE4_1: 3 } as const;

/** opentype4. */
export const OpenType4 = { NOCREATE: 0, CREATE: 1 } as const;

/** open_claim_type4. */
export const OpenClaimType4 = {
  NULL: 0,
  PREVIOUS: 1,
  DELEGATE_CUR: 2,
  DELEGATE_PREV: 3,
  FH: 4,
  DELEG_CUR_FH: 5,
  DELEG_PREV_FH: 6,
} as const;

/** open_delegation_type4. */
export const OpenDelegationType4 = { NONE: 0, READ: 1, WRITE: 2, NONE_EXT: 3 } as const;

/** why_no_delegation4. */
export const WhyNoDelegation4 = {
  NOT_WANTED: 0,
  CONTENTION: 1,
  RESOURCE: 2,
  NOT_SUPP_FTYPE: 3,
  WRITE_DELEG_NOT_SUPP_FTYPE: 4,
  NOT_SUPP_UPGRADE: 5,
  NOT_SUPP_DOWNGRADE: 6,
  CANCELLED: 7,
  IS_DIR: 8,
} as const;

/** limit_by4 (write delegations' space limit). */
export const LimitBy4 = { SIZE: 1, BLOCKS: 2 } as const;

/** OPEN4args share_access / share_deny and the 4.1 "want" bits carried in share_access. */
export const Open4Share = {
  ACCESS_READ: 0x1,
  ACCESS_WRITE: 0x2,
  ACCESS_BOTH: 0x3,
  DENY_NONE: 0x0,
  DENY_READ: 0x1,
  DENY_WRITE: 0x2,
  DENY_BOTH: 0x3,
  WANT_DELEG_MASK: 0xff00,
  WANT_NO_PREFERENCE: 0x0000,
  WANT_READ_DELEG: 0x0100,
  WANT_WRITE_DELEG: 0x0200,
  WANT_ANY_DELEG: 0x0300,
  WANT_NO_DELEG: 0x0400,
  WANT_CANCEL: 0x0500,
  WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL: 0x10000,
  WANT_PUSH_DELEG_WHEN_UNCONTENDED: 0x20000,
} as const;

/** OPEN4resok rflags. */
export const Open4Result = {
  CONFIRM: 0x02,
  LOCKTYPE_POSIX: 0x04,
  PRESERVE_UNLINKED: 0x08,
  MAY_NOTIFY_LOCK: 0x20,
} as const;

/** EXCHANGE_ID flags. */
export const ExchgId4Flag = {
  SUPP_MOVED_REFER: 0x00000001,
  SUPP_MOVED_MIGR: 0x00000002,
  SUPP_FENCE_OPS: 0x00000004,
  BIND_PRINC_STATEID: 0x00000100,
  USE_NON_PNFS: 0x00010000,
  USE_PNFS_MDS: 0x00020000,
  USE_PNFS_DS: 0x00040000,
  MASK_PNFS: 0x00070000,
  UPD_CONFIRMED_REC_A: 0x40000000,
  CONFIRMED_R: 0x80000000,
} as const;

/** state_protect_how4. */
export const StateProtect4 = { NONE: 0, MACH_CRED: 1, SSV: 2 } as const;

/** CREATE_SESSION flags. */
export const CreateSession4Flag = { PERSIST: 0x1, CONN_BACK_CHAN: 0x2, CONN_RDMA: 0x4 } as const;

/** SEQUENCE sr_status_flags. */
export const Seq4Status = {
  CB_PATH_DOWN: 0x00000001,
  CB_GSS_CONTEXTS_EXPIRING: 0x00000002,
  CB_GSS_CONTEXTS_EXPIRED: 0x00000004,
  EXPIRED_ALL_STATE_REVOKED: 0x00000008,
  EXPIRED_SOME_STATE_REVOKED: 0x00000010,
  ADMIN_STATE_REVOKED: 0x00000020,
  RECALLABLE_STATE_REVOKED: 0x00000040,
  LEASE_MOVED: 0x00000080,
  RESTART_RECLAIM_NEEDED: 0x00000100,
  CB_PATH_DOWN_SESSION: 0x00000200,
  BACKCHANNEL_FAULT: 0x00000400,
  DEVID_CHANGED: 0x00000800,
  DEVID_DELETED: 0x00001000,
} as const;

/** channel_dir_from_client4 / channel_dir_from_server4 (BIND_CONN_TO_SESSION). */
export const ChannelDirFromClient4 = { FORE: 0x1, BACK: 0x2, FORE_OR_BOTH: 0x3, BACK_OR_BOTH: 0x7 } as const;
export const ChannelDirFromServer4 = { FORE: 0x1, BACK: 0x2, BOTH: 0x3 } as const;

/** secinfo_style4 (SECINFO_NO_NAME). */
export const SecinfoStyle4 = { CURRENT_FH: 0, PARENT: 1 } as const;

/** RPC flavors that appear inside NFSv4 bodies (SECINFO, callback_sec_parms4). */
export const AuthFlavor4 = { NONE: 0, SYS: 1, RPCSEC_GSS: 6 } as const;

/** rpc_gss_svc_t. */
export const RpcGssSvc = { NONE: 1, INTEGRITY: 2, PRIVACY: 3 } as const;

/** layouttype4, layoutiomode4, layoutreturn_type4 (pNFS: decoded, never granted). */
export const LayoutType4 = { NFSV4_1_FILES: 1, OSD2_OBJECTS: 2, BLOCK_VOLUME: 3, FLEX_FILES: 4 } as const;
export const LayoutIoMode4 = { READ: 1, RW: 2, ANY: 3 } as const;
export const LayoutReturn4 = { FILE: 1, FSID: 2, ALL: 3 } as const;

/** gddrnf4_status (GET_DIR_DELEGATION). */
export const Gdd4 = { OK: 0, UNAVAIL: 1 } as const;

/** data_content4 (SEEK, READ_PLUS). */
export const DataContent4 = { DATA: 0, HOLE: 1 } as const;

/** netloc_type4 (COPY). */
export const NetLoc4 = { NAME: 1, URL: 2, NETADDR: 3 } as const;

/** IO_ADVISE_type4 (bit numbers of iaa_hints). */
export const IoAdvise4 = {
  NORMAL: 0,
  SEQUENTIAL: 1,
  SEQUENTIAL_BACKWARDS: 2,
  RANDOM: 3,
  WILLNEED: 4,
  WILLNEED_OPPORTUNISTIC: 5,
  DONTNEED: 6,
  NOREUSE: 7,
  READ: 8,
  WRITE: 9,
  INIT_PROXIMITY: 10,
} as const;

/** setxattr_option4. */
export const SetXattr4 = { EITHER: 0, CREATE: 1, REPLACE: 2 } as const;
