/** How a session proves who it is to ZooKeeper: digest credentials and the digest ZooKeeper stores for them. */
import { createHash } from 'node:crypto';

/** Credentials for `addAuthInfo(scheme, auth)` on a ZooKeeper session. */
export interface ZkAuth {
  scheme: 'digest';
  /** `user:password`. */
  auth: string;
}

/**
 * ZooKeeper's digest of a `user:password` pair, as `user:base64(sha1(user:password))`: the value of
 * `-Dzookeeper.DigestAuthenticationProvider.superDigest` (DigestAuthenticationProvider.generateDigest).
 */
export function zkDigest(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}
