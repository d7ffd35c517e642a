import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { createContext, useContext, useState } from 'react';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, useTRPCClient, type RouterOutputs } from '../../lib/trpc.ts';

export type NodeView = RouterOutputs['nodes']['list'][number];
export type ClusterSummary = RouterOutputs['nodes']['summary'];
export interface NodesSnapshot {
  nodes: NodeView[];
  summary: ClusterSummary;
}

export interface NodesLive {
  data: NodesSnapshot | undefined;
  /** 'connecting' before the first snapshot and while reconnecting; 'error' when the stream gave up. */
  status: 'idle' | 'connecting' | 'pending' | 'error';
  error: { message: string } | null;
}

/** The node cards' stream (nodes.onStatus): one subscription per tab, opened by the app shell. */
export function useNodesStatusSubscription(): NodesLive {
  const trpc = useTRPC();
  // While the link reconnects, useSubscription keeps the last snapshot in `data`: the cards stay readable.
  const sub = useSubscription(trpc.nodes.onStatus.subscriptionOptions());
  return { data: sub.data?.data, status: sub.status, error: sub.error ? { message: sub.error.message } : null };
}

export const NodesLiveContext = createContext<NodesLive>({ data: undefined, status: 'connecting', error: null });

/** The live node view shared through the shell, so pages never open a second nodes stream. */
export function useNodesLive(): NodesLive {
  return useContext(NodesLiveContext);
}

/** Node names in display order, from the live view. */
export function useNodeNames(): string[] {
  return useNodesLive().data?.nodes.map((n) => n.node) ?? [];
}

export type ClusterEvent = { id: string; at: string; kind: string; node: string | null; message: string };

/** The last `keep` cluster events (leader changed, node down/up, quorum lost/restored), newest first. */
export function useClusterEvents(keep = 10): ClusterEvent[] {
  const trpc = useTRPC();
  const [events, setEvents] = useState<ClusterEvent[]>([]);
  useSubscription(
    trpc.nodes.onEvent.subscriptionOptions(undefined, {
      onData: ({ id, data }) => {
        setEvents((prev) => [{ id: `${data.at}-${id}`, ...data }, ...prev].slice(0, keep));
      },
    }),
  );
  return events;
}

export function useDrainNode() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.nodes.drain.mutationOptions({
      onSuccess: (state) => {
        notifySuccess(`${state.node} drained`, `Reason: ${state.reason ?? '—'}. The scheduler moves its files away and never targets it.`);
        void qc.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
      },
      onError: (err, input) => notifyError(`Could not drain ${input.node}`, err),
    }),
  );
}

export function useUndrainNode() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.nodes.undrain.mutationOptions({
      onSuccess: (state) => {
        notifySuccess(`${state.node} undrained`, `${state.node} takes files again.`);
        void qc.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
      },
      onError: (err, input) => notifyError(`Could not undrain ${input.node}`, err),
    }),
  );
}

export type NodeAction = 'stop' | 'start' | 'restart' | 'kill';
export type NodeActionResult = RouterOutputs['nodes']['stop'];
export type QuorumImpact = RouterOutputs['nodes']['impact'];

const PAST: Record<NodeAction, string> = { stop: 'stopped', start: 'started', restart: 'restarted', kill: 'killed' };

/** Which driver controls the nodes ('process', 'docker') or 'disabled': it does not change while the server runs. */
export function useNodeControlKind() {
  const trpc = useTRPC();
  return useQuery(trpc.nodes.control.queryOptions(undefined, { staleTime: Infinity }));
}

/** What an action would do to the quorum, fetched fresh each time the confirmation opens. */
export function useNodeImpact(node: string, action: NodeAction | null) {
  const trpc = useTRPC();
  return useQuery(
    trpc.nodes.impact.queryOptions({ node, action: action ?? 'stop' }, { enabled: action !== null, staleTime: 0, gcTime: 0 }),
  );
}

/** Stop, start, restart or kill a node; the result (or the API's error) as a toast. */
export function useNodeAction() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ node, action }: { node: string; action: NodeAction }): Promise<NodeActionResult> =>
      client.nodes[action].mutate({ node }),
    onSuccess: (res, { node, action }) => {
      notifySuccess(
        `${node} ${PAST[action]}`,
        `Took ${(res.durationMs / 1000).toFixed(1)} s (${res.durationMs} ms). ${res.impact.message}.`,
      );
      void qc.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
    },
    onError: (err, { node, action }) => notifyError(`Could not ${action} ${node}`, err),
  });
}
