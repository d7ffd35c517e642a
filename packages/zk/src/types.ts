/** The plain shapes the client and the TTL create share. */

/**
 * A znode's full stat, as ZooKeeper's CLI `stat` prints it: zxids and the session owning an ephemeral node in hex
 * (`0x0` for a persistent one), times in epoch milliseconds.
 */
export interface ZkStat {
  czxid: string;
  mzxid: string;
  pzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

/** One ACL entry: `scheme:id` may do `perms` (a sum of ZK_PERMS). */
export interface ZkAclEntry {
  scheme: string;
  id: string;
  perms: number;
}

/** Digest credentials a client authenticates with: ZooKeeper's `addauth digest user:password`. */
export interface ZkDigestCredentials {
  user: string;
  password: string;
}
