import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type ZnodeView = RouterOutputs['znodes']['get'];
export type ZnodeChild = RouterOutputs['znodes']['children']['children'][number];

/**
 * The open node follows ZooKeeper's watches (useZnodeWatch); the tree's other levels, which no watch follows,
 * are read again this often.
 */
const TREE_REFRESH_MS = 10_000;

export function useZnodeChildren(path: string, enabled: boolean) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.znodes.children.queryOptions({ path }), enabled, refetchInterval: enabled ? TREE_REFRESH_MS : false });
}

export function useZnode(path: string | null) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.znodes.get.queryOptions({ path: path ?? '/' }), enabled: path !== null });
}

/** Reads the open node (and the tree) again whenever ZooKeeper says it changed, as another client changes it. */
export function useZnodeWatch(path: string) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  useSubscription(
    trpc.znodes.onChange.subscriptionOptions(
      { path },
      {
        onData: (change) => {
          void qc.invalidateQueries({ queryKey: trpc.znodes.get.queryKey({ path: change.path }) });
          if (change.kind !== 'data') void qc.invalidateQueries({ queryKey: trpc.znodes.children.pathKey() });
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
