/**
 * Which ZooKeeper digest credentials protect zkha's znodes under /zkha. Every zkha session (the server's,
 * the demo workload's, each storage agent's) authenticates with them and creates znodes that only they may
 * change; anyone may still read.
 *
 * - `ZK_AUTH=user:password`: those.
 * - unset, embedded ensemble: generated once into ZK_AUTH_FILE (default `zk-auth` next to the database), mode
 *   0600, and read back on every later start, so restarts keep access to the tree they protected.
 * - unset, external ensemble (ZK_NODES): refuse to start. The tree is shared by every zkha server on that
 *   ensemble and must outlive this machine's data folder, so the operator chooses the credentials.
 * - `ZK_AUTH=none`: the old open tree, on purpose; boot logs a warning.
 *
 * Nothing here prints a password: errors name the file or the variable, never the content.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { ConfigError, parseZkCredentials, type AppConfig, type ZkAuthCredentials } from './config.ts';

/** The user of generated credentials. */
export const GENERATED_ZK_USER = 'zkha';

export interface ResolvedZkAuth {
  /** null: ZK_AUTH=none, znodes stay open. */
  auth: ZkAuthCredentials | null;
  source: 'config' | 'file' | 'generated' | 'none';
  /** The credentials file, for `file` and `generated`. */
  file: string | null;
  /** The file was readable by others and has been narrowed to 0600. */
  tightened: boolean;
}

/** Where generated credentials live: ZK_AUTH_FILE, or `zk-auth` in the database's folder. */
export function zkAuthFile(config: Pick<AppConfig, 'ZK_AUTH_FILE' | 'DATABASE_PATH'>): string {
  return path.resolve(config.ZK_AUTH_FILE ?? path.join(path.dirname(config.DATABASE_PATH), 'zk-auth'));
}

function readCredentialsFile(file: string): ZkAuthCredentials {
  const creds = parseZkCredentials(fs.readFileSync(file, 'utf8').replace(/\r?\n$/, ''));
  if (!creds) {
    throw new ConfigError(
      `invalid configuration:\n  ZK_AUTH_FILE (${file}) does not hold user:password credentials (password of 16+ characters). ` +
        'Restore the file it was: the znodes under /zkha are protected with those credentials. Or set ZK_AUTH.',
    );
  }
  return creds;
}

/** Decides the credentials for `config` (see the file comment); may create the credentials file. */
export function resolveZkAuth(config: Pick<AppConfig, 'ZK_AUTH' | 'ZK_AUTH_FILE' | 'ZK_NODES' | 'DATABASE_PATH'>): ResolvedZkAuth {
  if (config.ZK_AUTH === 'none') return { auth: null, source: 'none', file: null, tightened: false };
  if (config.ZK_AUTH) return { auth: config.ZK_AUTH, source: 'config', file: null, tightened: false };
  if (config.ZK_NODES) {
    throw new ConfigError(
      'invalid configuration:\n  ZK_AUTH: required with an external ensemble (ZK_NODES). Set ZK_AUTH=<user>:<password> ' +
        '(a password of 16+ characters, the same for every zkha server on that ensemble): zkha protects its znodes ' +
        'under /zkha with it so other clients of the ensemble cannot change them. ZK_AUTH=none leaves them open.',
    );
  }
  const file = zkAuthFile(config);
  let fd: number;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': only one of two servers starting at once creates it; the other reads what the first wrote.
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const auth = readCredentialsFile(file);
    const mode = fs.statSync(file).mode & 0o777;
    const tightened = (mode & 0o077) !== 0;
    if (tightened) fs.chmodSync(file, 0o600);
    return { auth, source: 'file', file, tightened };
  }
  const auth = { user: GENERATED_ZK_USER, password: randomBytes(24).toString('base64url') };
  try {
    fs.fchmodSync(fd, 0o600); // whatever the umask
    fs.writeSync(fd, `${auth.user}:${auth.password}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { auth, source: 'generated', file, tightened: false };
}
