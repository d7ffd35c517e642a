/** The explorer's live view: changes of the open node and of the open tree levels, as ZooKeeper's watches report them. */
import type { ZkSession } from '@zkha/zk';

import { PushQueue } from '../shared/push-queue.ts';

/** One change of a watched node. */
export interface ZnodeChange {
  path: string;
  kind: 'data' | 'children' | 'created' | 'deleted';
}

/**
 * Changes as ZooKeeper's watches report them, until `signal` aborts: of the open node `path` (its data, its
 * children, its creation or deletion) and of the children of each `expanded` node (the console's open tree
 * levels). Watches are one-shot: each is set again as it fires, so a change made between the two is caught by
 * the read that sets the next one.
 */
export async function* watchZnodes(
  session: ZkSession,
  path: string,
  signal: AbortSignal,
  expanded: readonly string[],
): AsyncGenerator<ZnodeChange> {
  const queue = new PushQueue<ZnodeChange>();
  const push = (p: string, kind: ZnodeChange['kind']) => queue.push({ path: p, kind });
  // One watch of each kind per node at a time: the library keeps every callback until its watch fires.
  const childrenArmed = new Set<string>();
  const armChildren = (p: string): void => {
    if (signal.aborted || childrenArmed.has(p)) return;
    childrenArmed.add(p);
    void session.client
      .watchChildren(p, (e) => {
        childrenArmed.delete(p);
        if (e.type === 'children_changed') {
          push(p, 'children');
          armChildren(p);
        }
      })
      .catch(() => {
        childrenArmed.delete(p); // no node (yet): for the open node, the data watch says when it appears
      });
  };
  const armData = (): void => {
    if (signal.aborted) return;
    void session.client
      .watchData(path, (e) => {
        push(path, e.type === 'deleted' ? 'deleted' : e.type === 'created' ? 'created' : 'data');
        armData();
        if (e.type === 'created') armChildren(path); // the node exists now: its children can be watched
      })
      .catch(() => undefined);
  };
  armData();
  for (const p of new Set([path, ...expanded])) armChildren(p);
  yield* queue.drain(signal);
}
