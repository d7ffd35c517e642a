import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useState } from 'react';

import { formatBytes } from '../../lib/format.ts';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';
import { createThrottle } from '../migrations/queue-view.ts';

export type StorageNodeView = RouterOutputs['nodes']['lifecycle'][number];
export type NodeLifecycle = StorageNodeView['lifecycle'];
export type DecommissionProgress = NonNullable<StorageNodeView['decommission']>;
export type CapacityView = RouterOutputs['capacity']['recommendation'];
export type CapacityAction = CapacityView['action'];
export type CapacityHistoryRow = RouterOutputs['capacity']['history'][number];
export type CapacitySample = RouterOutputs['capacity']['samples'][number];

/** The recommendation follows usage, which changes with every move: at most one refresh per this long. */
const CAPACITY_REFRESH_MS = 5_000;

/**
 * Refreshes the capacity planner's queries (recommendation, history, samples), throttled. The API has no
 * capacity stream: the page calls this when files change (scheduler.onPlan) and when the lifecycle does.
 */
export function useCapacityRefresh(): () => void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [throttle] = useState(() =>
    createThrottle(() => void qc.invalidateQueries({ queryKey: trpc.capacity.pathKey() }), CAPACITY_REFRESH_MS),
  );
  useEffect(() => () => throttle.cancel(), [throttle]);
  return throttle.request;
}

/** Node usage changes with every move; the lifecycle list is re-read at most this often for it. */
const LIFECYCLE_REFRESH_MS = 1_000;

/**
 * Storage nodes with their lifecycle and decommission progress. nodes.onLifecycle pushes each lifecycle change
 * (and, while a decommission runs, its progress every second) into the nodes.lifecycle query; it does not
 * fire when files merely move, so `refresh` (throttled) is for the page to call when files change.
 */
export function useLifecycleLive(onChange?: () => void) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const query = useQuery(trpc.nodes.lifecycle.queryOptions());
  const sub = useSubscription(
    trpc.nodes.onLifecycle.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        qc.setQueryData(trpc.nodes.lifecycle.queryKey(), data);
        onChange?.();
      },
    }),
  );
  const [throttle] = useState(() =>
    createThrottle(() => void qc.invalidateQueries({ queryKey: trpc.nodes.lifecycle.queryKey() }), LIFECYCLE_REFRESH_MS),
  );
  useEffect(() => () => throttle.cancel(), [throttle]);
  const failed = query.error ?? sub.error;
  return {
    nodes: query.data ?? sub.data?.data,
    error: !query.data && failed ? { message: failed.message } : null,
    refresh: throttle.request,
  };
}

function useLifecycleMutationDone() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // The lifecycle stream brings the new state; node cards and the dry run read other queries.
  return useCallback(() => {
    void qc.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
    void qc.invalidateQueries({ queryKey: trpc.migrations.plan.pathKey() });
    void qc.invalidateQueries({ queryKey: trpc.capacity.pathKey() });
  }, [qc, trpc]);
}

export function useDecommission() {
  const trpc = useTRPC();
  const done = useLifecycleMutationDone();
  return useMutation(
    trpc.nodes.decommission.mutationOptions({
      onSuccess: (v) => {
        done();
        const d = v.decommission;
        notifySuccess(
          `Decommissioning ${v.node}`,
          d && d.filesLeft > 0
            ? `${d.filesLeft} files (${formatBytes(d.bytesLeft)}) move off ${v.node} under the migration caps; then it is removed.`
            : `${v.node} holds no files: it is removed on the next pass.`,
        );
      },
      onError: (err, input) => notifyError(`Could not decommission ${input.node}`, err),
    }),
  );
}

export function useCancelDecommission() {
  const trpc = useTRPC();
  const done = useLifecycleMutationDone();
  return useMutation(
    trpc.nodes.cancelDecommission.mutationOptions({
      onSuccess: (v) => {
        done();
        notifySuccess(
          `Decommission of ${v.node} cancelled`,
          `${v.node} is active again with ${v.files} files; its queued moves were cancelled.`,
        );
      },
      onError: (err, input) => notifyError(`Could not cancel the decommission of ${input.node}`, err),
    }),
  );
}

export function useReactivate() {
  const trpc = useTRPC();
  const done = useLifecycleMutationDone();
  return useMutation(
    trpc.nodes.reactivate.mutationOptions({
      onSuccess: (v) => {
        done();
        notifySuccess(`${v.node} reactivated`, `It is ${v.lifecycle}; once active, files are rebalanced toward it.`);
      },
      onError: (err, input) => notifyError(`Could not reactivate ${input.node}`, err),
    }),
  );
}

export function useAddStorageNode() {
  const trpc = useTRPC();
  const done = useLifecycleMutationDone();
  return useMutation(
    trpc.nodes.addStorageNode.mutationOptions({
      onSuccess: (v) => {
        done();
        notifySuccess(
          `Storage node ${v.node} added`,
          `It is ${v.lifecycle}; once its agent answers it becomes active and files are rebalanced toward it.`,
        );
      },
      onError: (err, input) => notifyError(`Could not add storage node ${input.node}`, err),
    }),
  );
}

export function useCapacityRecommendation() {
  const trpc = useTRPC();
  return useQuery(trpc.capacity.recommendation.queryOptions(undefined, { placeholderData: (prev) => prev }));
}

export function useCapacityHistory(limit = 10) {
  const trpc = useTRPC();
  return useQuery(trpc.capacity.history.queryOptions({ limit }));
}

export function useCapacitySamples(since: string) {
  const trpc = useTRPC();
  return useQuery(trpc.capacity.samples.queryOptions({ since, limit: 10_000 }, { placeholderData: (prev) => prev }));
}

/** Records a usage sample now (and the recommendation if it changed), instead of waiting for the next round. */
export function useSampleCapacity() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.capacity.sample.mutationOptions({
      onSuccess: ({ recommendation, recorded }) => {
        void qc.invalidateQueries({ queryKey: trpc.capacity.pathKey() });
        notifySuccess('Usage sampled', `${recommendation.reason}${recorded ? ' (recorded in the history)' : ''}`);
      },
      onError: (err) => notifyError('Could not sample the usage', err),
    }),
  );
}
