/** ACLs and stats in plain fields: the permission bits, the ACL zkha puts on its znodes, and the library's stat decoded. */
import { zkDigest } from './auth.ts';
import type { LibStat } from './library.ts';
import type { ZkAclEntry, ZkDigestCredentials, ZkStat } from './types.ts';

/** The library's stat (longs as 8-byte buffers) in plain fields. */
export function toZkStat(raw: LibStat): ZkStat {
  const long = (b: unknown): bigint => (Buffer.isBuffer(b) ? b.readBigInt64BE(0) : BigInt(Number(b ?? 0)));
  // Unsigned: a TTL node's owner has its top byte set (0xff...), which as a signed long would print negative.
  const hex = (b: unknown) => `0x${BigInt.asUintN(64, long(b)).toString(16)}`;
  return {
    czxid: hex(raw.czxid),
    mzxid: hex(raw.mzxid),
    pzxid: hex(raw.pzxid),
    ctime: Number(long(raw.ctime)),
    mtime: Number(long(raw.mtime)),
    version: Number(raw.version),
    cversion: Number(raw.cversion),
    aversion: Number(raw.aversion),
    ephemeralOwner: hex(raw.ephemeralOwner),
    dataLength: Number(raw.dataLength),
    numChildren: Number(raw.numChildren),
  };
}

/** ZooKeeper's permission bits (ZooDefs.Perms). */
export const ZK_PERMS = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/**
 * The ACL a client with `auth` puts on every znode it creates: its digest user may do anything, anyone may
 * read. Reads stay open on purpose: operators inspect the tree with zkCli or any client, but only zkha's own
 * sessions can create, change, delete or re-ACL its znodes.
 */
export function protectedAcl(auth: ZkDigestCredentials): ZkAclEntry[] {
  return [
    { scheme: 'digest', id: zkDigest(auth.user, auth.password), perms: ZK_PERMS.all },
    { scheme: 'world', id: 'anyone', perms: ZK_PERMS.read },
  ];
}

/** The same entries, in any order. */
export function sameAcl(a: readonly ZkAclEntry[], b: readonly ZkAclEntry[]): boolean {
  const key = (e: ZkAclEntry) => `${e.scheme}:${e.id}:${e.perms}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}
