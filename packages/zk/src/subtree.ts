/**
 * Operations on a node and everything below it, made of single-node calls: ZooKeeper has neither a recursive delete
 * nor a recursive setACL, and a multi cannot carry a setACL. None is atomic: each says what it does when the tree
 * changes under it.
 */
import { AppError } from '@zkha/core';

import { sameAcl } from './acl.ts';
import { isZkError } from './errors.ts';
import type { ZkAclEntry } from './types.ts';

/** The single-node calls a walk is made of: a ZkClient's. */
export interface ZkTreeClient {
  /** What this client's creates are protected with; null: open. */
  readonly acl: ZkAclEntry[] | null;
  children(path: string): Promise<string[]>;
  remove(path: string, version?: number): Promise<void>;
  getAcl(path: string): Promise<ZkAclEntry[]>;
  setAcl(path: string, acl: readonly ZkAclEntry[], version?: number): Promise<void>;
}

/** ZkClient.removeRecursive: `path` and everything below it, deepest first. */
export async function removeTree(zk: ZkTreeClient, path: string): Promise<void> {
  if (path === '/') throw new AppError('BAD_INPUT', 'refusing to remove the ZooKeeper root');
  for (let attempt = 0; ; attempt++) {
    let kids: string[];
    try {
      kids = await zk.children(path);
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return;
      throw err;
    }
    for (const kid of kids) await removeTree(zk, joinPath(path, kid));
    try {
      await zk.remove(path);
      return;
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return;
      if (!isZkError(err, 'NOT_EMPTY') || attempt >= 3) throw err;
    }
  }
}

/** ZkClient.setAclTree: the tree read level by level, then set deepest first, the root last. */
export async function setAclTree(
  zk: ZkTreeClient,
  root: string,
  acl: readonly ZkAclEntry[],
  opts: { batchSize?: number } = {},
): Promise<number> {
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const below: string[] = [];
  let level = [root];
  while (level.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += batchSize) {
      const lists = await Promise.all(
        level.slice(i, i + batchSize).map(async (p) => {
          try {
            return (await zk.children(p)).map((kid) => joinPath(p, kid));
          } catch (err) {
            if (isZkError(err, 'NO_NODE')) return [];
            throw err;
          }
        }),
      );
      for (const list of lists) next.push(...list);
    }
    below.push(...next);
    level = next;
  }
  let count = 0;
  // Deepest first, then the root on its own.
  const ordered = [...below.reverse(), root];
  for (let i = 0; i < ordered.length; i += batchSize) {
    const done = await Promise.all(
      ordered.slice(i, i + batchSize).map(async (p) => {
        try {
          await zk.setAcl(p, acl);
          return 1;
        } catch (err) {
          if (isZkError(err, 'NO_NODE')) return 0;
          throw err;
        }
      }),
    );
    count += done.reduce<number>((a, b) => a + b, 0);
  }
  return count;
}

/** ZkClient.protectTree: the client's ACL on a tree that does not carry it yet. */
export async function protectTree(zk: ZkTreeClient, root: string, opts: { batchSize?: number } = {}): Promise<number> {
  if (!zk.acl) return 0;
  let current: ZkAclEntry[];
  try {
    current = await zk.getAcl(root);
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return 0;
    throw err;
  }
  if (sameAcl(current, zk.acl)) return 0;
  return setAclTree(zk, root, zk.acl, opts);
}

function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
