import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type ZnodeView = RouterOutputs['znodes']['get'];
export type ZnodeChild = RouterOutputs['znodes']['children']['children'][number];

/**
 * The open node and the open tree levels follow ZooKeeper's watches (useZnodeWatch). A listing also shows each
 * child's size and child count, which no watch follows unless that child is open: those are read again this often.
 */
const TREE_REFRESH_MS = 60_000;

export function useZnodeChildren(path: string, enabled: boolean) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.znodes.children.queryOptions({ path }), enabled, refetchInterval: enabled ? TREE_REFRESH_MS : false });
}

export function useZnode(path: string | null) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.znodes.get.queryOptions({ path: path ?? '/' }), enabled: path !== null });
}

/** Paths matching a prefix or a glob; nothing is asked while the pattern is empty. */
export function useZnodeFind(pattern: string) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.znodes.find.queryOptions({ pattern }), enabled: pattern.startsWith('/') });
}

const parentOf = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

/**
 * Reads again what ZooKeeper says changed, as another client changes it: the open node, and the listings of the
 * open tree levels (`expanded`). One subscription for all of them, renewed when a level opens or closes.
 */
export function useZnodeWatch(path: string, expanded: readonly string[]) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  useSubscription(
    trpc.znodes.onChange.subscriptionOptions(
      { path, expanded: [...expanded] },
      {
        onData: (change) => {
          if (change.kind !== 'children') void qc.invalidateQueries({ queryKey: trpc.znodes.get.queryKey({ path: change.path }) });
          // The node's own listing when its children changed; its parent's, which shows its size and child count.
          if (change.kind !== 'data') void qc.invalidateQueries({ queryKey: trpc.znodes.children.queryKey({ path: change.path }) });
          void qc.invalidateQueries({ queryKey: trpc.znodes.children.queryKey({ path: parentOf(change.path) }) });
        },
      },
    ),
  );
}

/** After a write: the node and every listing are read again. */
function useRefresh() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return () => void qc.invalidateQueries({ queryKey: trpc.znodes.pathKey() });
}

export function useSetZnode() {
  const trpc = useTRPC();
  const refresh = useRefresh();
  return useMutation(
    trpc.znodes.set.mutationOptions({
      onSuccess: (v) => {
        notifySuccess(`${v.path} saved`, `Version ${v.stat.version}, ${v.data.sizeBytes} bytes.`);
        refresh();
      },
      onError: (err, input) => {
        notifyError(`${input.path} not saved`, err);
        refresh();
      },
    }),
  );
}

export function useSetZnodeAcl() {
  const trpc = useTRPC();
  const refresh = useRefresh();
  return useMutation(
    trpc.znodes.setAcl.mutationOptions({
      onSuccess: (v) => {
        notifySuccess(`${v.path}: ACL saved`, `${v.acl.length} entr${v.acl.length === 1 ? 'y' : 'ies'}, aversion ${v.stat.aversion}.`);
        refresh();
      },
      onError: (err, input) => {
        notifyError(`${input.path}: ACL not saved`, err);
        refresh();
      },
    }),
  );
}

export function useCreateZnode() {
  const trpc = useTRPC();
  const refresh = useRefresh();
  return useMutation(
    trpc.znodes.create.mutationOptions({
      onSuccess: (v) => {
        notifySuccess(`${v.path} created`, `${v.data.sizeBytes} bytes.`);
        refresh();
      },
      onError: (err, input) => notifyError(`${input.path} not created`, err),
    }),
  );
}

export function useRemoveZnode() {
  const trpc = useTRPC();
  const refresh = useRefresh();
  return useMutation(
    trpc.znodes.remove.mutationOptions({
      onSuccess: (r) => {
        if (r.deleted > 0) notifySuccess(`${r.path} deleted`, `${r.deleted} znode${r.deleted === 1 ? '' : 's'}.`);
        refresh();
      },
      onError: (err, input) => notifyError(`${input.path} not deleted`, err),
    }),
  );
}
