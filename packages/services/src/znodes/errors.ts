import { AppError } from '@zkha/core';
import { isZkError } from '@zkha/zk';

/** ZooKeeper errors in the explorer's words (and HTTP statuses), naming the path. */
export function explain(err: unknown, path: string): never {
  if (isZkError(err, 'NO_NODE')) throw new AppError('NODE_NOT_FOUND', `no znode ${path}`, { path });
  if (isZkError(err, 'NODE_EXISTS')) throw new AppError('CONFLICT', `${path} exists already`, { path });
  if (isZkError(err, 'NOT_EMPTY'))
    throw new AppError('CONFLICT', `${path} has children: delete them first, or delete recursively`, { path });
  if (isZkError(err, 'NO_AUTH'))
    throw new AppError('CONFLICT', `ZooKeeper refused: zkha's credentials may not change ${path} (its ACL)`, { path });
  if (isZkError(err, 'NO_CHILDREN_FOR_EPHEMERALS'))
    throw new AppError('BAD_INPUT', `${path}'s parent is ephemeral: ephemeral znodes cannot have children`, { path });
  if (isZkError(err, 'INVALID_ACL')) throw new AppError('BAD_INPUT', `ZooKeeper refused the ACL for ${path}`, { path });
  throw err;
}
