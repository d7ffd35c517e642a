import { AppError } from './errors.ts';

/** Node names are short identifiers (zk1, store-4): they become folder names and znode names. */
export const NODE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** Throws NODE_NOT_FOUND unless `node` is one of the configured nodes. */
export function assertKnownNode(nodes: readonly string[], node: string): string {
  if (!nodes.includes(node)) {
    throw new AppError('NODE_NOT_FOUND', `unknown node "${node}": expected one of ${nodes.join(', ')}`, {
      node,
      nodes: [...nodes],
    });
  }
  return node;
}
