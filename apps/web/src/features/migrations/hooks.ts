import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useState } from 'react';

import { formatBytes } from '../../lib/format.ts';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, useTRPCClient, type RouterOutputs } from '../../lib/trpc.ts';
import { usePlanLive } from '../scheduler/hooks.ts';
import { formatRate } from './format.ts';
import { createThrottle, ProgressChanges, ThroughputTracker } from './queue-view.ts';
import type { StrategyName } from './validation.ts';

export type MigrationProgress = RouterOutputs['migrations']['progress'];
export type MigrationTask = MigrationProgress['tasks'][number];
export type WaitingTask = MigrationProgress['waiting'][number];
export type WholePlan = RouterOutputs['migrations']['plan'];
export type PlannedMove = WholePlan['moves'][number];
export type NodeBalance = WholePlan['nodes'][number];
export type MigrationCaps = MigrationProgress['caps'];
export type OrderingPolicy = MigrationProgress['policy'];
export type MigrationRecord = RouterOutputs['migrations']['list'][number];
export type FinishedStatus = 'completed' | 'failed' | 'cancelled';
export type CapChange = RouterOutputs['logs']['operations']['items'][number];

export interface MigrationsLive {
  progress: MigrationProgress | undefined;
  /** Bytes per second of each running task, measured between progress events. */
  rates: ReadonlyMap<number, number>;
  status: 'idle' | 'connecting' | 'pending' | 'error';
  error: { message: string } | null;
}

/** How often the dry run and the history may be re-read while the queue is busy (each move changes them). */
const REFRESH_MS = 1_000;

/** A throttled invalidation of one query path (the first one given), alive as long as the component. */
function useThrottledInvalidate(pathKey: readonly unknown[]) {
  const qc = useQueryClient();
  const [throttle] = useState(() => createThrottle(() => void qc.invalidateQueries({ queryKey: pathKey }), REFRESH_MS));
  useEffect(() => () => throttle.cancel(), [throttle]);
  return throttle.request;
}

/**
 * The page's live data, from streams only (no polling): the queue (migrations.onProgress, at most ten events a
 * second), and the events that make the dry run or the history stale. A task leaving the open set means it
 * finished (history changes); the open set changing at all means files were queued or released (the dry run
 * skips queued files); a re-plan (scheduler.onPlan) means files changed some other way. Cap changes (by an
 * operator or by adaptive mode) arrive with the caps in the progress payload and refresh the change log.
 * `onFilesChanged` lets the page refresh other views from the same re-plan stream instead of opening another.
 */
export function useMigrationsLive(opts: { onFilesChanged?: () => void } = {}): MigrationsLive {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [tracker] = useState(() => new ThroughputTracker());
  const [changes] = useState(() => new ProgressChanges());
  const [rates, setRates] = useState<ReadonlyMap<number, number>>(new Map());
  const refreshPlan = useThrottledInvalidate(trpc.migrations.plan.pathKey());
  const refreshHistory = useThrottledInvalidate(trpc.migrations.list.pathKey());

  const sub = useSubscription(
    trpc.migrations.onProgress.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        setRates(tracker.update(data.tasks));
        const change = changes.update(data);
        if (change.finished) refreshHistory();
        if (change.openSetChanged) refreshPlan();
        if (change.capsChanged) void qc.invalidateQueries({ queryKey: trpc.logs.operations.pathKey() });
      },
    }),
  );
  // Files changed: the dry run is stale, and so is the history (a batch of moves can start and finish
  // between two progress events without ever showing in the open set).
  usePlanLive(() => {
    refreshPlan();
    refreshHistory();
    opts.onFilesChanged?.();
  });
  return { progress: sub.data?.data, rates, status: sub.status, error: sub.error ? { message: sub.error.message } : null };
}

/** The dry run for a strategy: nothing moves. Kept fresh by useMigrationsLive. */
export function useMigrationPlan(strategy: StrategyName) {
  const trpc = useTRPC();
  return useQuery(trpc.migrations.plan.queryOptions({ strategy }, { placeholderData: (prev) => prev }));
}

/** The strategy the scheduler is configured with: the dry run's first choice. */
export function useConfiguredStrategy(): StrategyName | undefined {
  const trpc = useTRPC();
  return useQuery(trpc.scheduler.config.queryOptions()).data?.strategy;
}

export function useEnqueuePlan() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.migrations.enqueue.mutationOptions({
      onSuccess: ({ plan, queued }, input) => {
        void qc.invalidateQueries({ queryKey: trpc.migrations.plan.pathKey() });
        if (queued === 0) {
          notifySuccess(
            'Nothing queued',
            plan.moves.length === 0
              ? 'The plan has no moves: the cluster is within the threshold.'
              : 'Every move of the plan is already queued or no longer applies.',
          );
          return;
        }
        notifySuccess(
          `Queued ${queued} ${queued === 1 ? 'move' : 'moves'}`,
          `${formatBytes(plan.bytesToMove)} to move with the ${plan.strategy} strategy, priority ${input.priority ?? 5}${input.deadline ? `, due ${new Date(input.deadline).toLocaleString()}` : ''}.`,
        );
      },
      onError: (err) => notifyError('Could not queue the plan', err),
    }),
  );
}

export type QueueAction = 'pause' | 'resume' | 'cancel';

/** Pause, resume or cancel one task (`id`) or the whole queue (no id); the progress stream shows the result. */
export function useQueueAction() {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ action, id }: { action: QueueAction; id?: number }): Promise<{ cancelled?: number }> => {
      const input = id === undefined ? {} : { id };
      if (action === 'cancel') return client.migrations.cancel.mutate(input);
      await client.migrations[action].mutate(input);
      return {};
    },
    onSuccess: (res, { action, id }) => {
      if (action === 'cancel') {
        void qc.invalidateQueries({ queryKey: trpc.migrations.list.pathKey() });
        const n = res.cancelled ?? 0;
        notifySuccess(
          id === undefined ? `Cancelled ${n} ${n === 1 ? 'task' : 'tasks'}` : `Task #${id} cancelled`,
          'Each file stays whole on its source node; partial copies were removed.',
        );
      } else if (id === undefined) {
        notifySuccess(
          action === 'pause' ? 'Queue paused' : 'Queue resumed',
          action === 'pause'
            ? 'Copies under way finish; nothing new starts until you resume.'
            : 'Waiting tasks start again under the caps.',
        );
      } else {
        notifySuccess(
          `Task #${id} ${action === 'pause' ? 'paused' : 'resumed'}`,
          action === 'pause' ? 'It stays in the queue and will not start until resumed.' : 'It waits for a free slot again.',
        );
      }
    },
    onError: (err, { action, id }) => notifyError(`Could not ${action} ${id === undefined ? 'the queue' : `task #${id}`}`, err),
  });
}

function describeCaps(c: MigrationCaps): string {
  const bw = c.bandwidthBytesPerSec === null ? 'unlimited bandwidth' : `${formatRate(c.bandwidthBytesPerSec)} per node`;
  return `${c.maxConcurrent} at once, ${c.maxPerNodeOut} out and ${c.maxPerNodeIn} in per node, ${bw}.`;
}

export function useSetCaps() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.migrations.setCaps.mutationOptions({
      onSuccess: (caps) => {
        void qc.invalidateQueries({ queryKey: trpc.logs.operations.pathKey() });
        notifySuccess('Migration caps saved', describeCaps(caps));
      },
      onError: (err) => notifyError('Could not save the migration caps', err),
    }),
  );
}

const POLICY_WORDS: Record<OrderingPolicy, string> = {
  priority: 'highest priority first',
  deadline: 'earliest deadline first',
  importance: 'by a score of priority, deadline urgency and size',
};

export function useSetPolicy() {
  const trpc = useTRPC();
  return useMutation(
    trpc.migrations.setPolicy.mutationOptions({
      onSuccess: ({ policy }) => notifySuccess(`Ordering: ${policy}`, `Waiting tasks now start ${POLICY_WORDS[policy]}.`),
      onError: (err) => notifyError('Could not change the ordering policy', err),
    }),
  );
}

/**
 * Adaptive mode: on or off from the server's live flag; when it was last switched from the latest
 * `migration_adaptive` operation (a restart applies the configured default without recording one).
 */
export function useAdaptiveState() {
  const trpc = useTRPC();
  const caps = useQuery(trpc.migrations.caps.queryOptions());
  const q = useQuery(trpc.logs.operations.queryOptions({ action: 'migration_adaptive', limit: 1 }));
  const op = q.data?.items[0];
  const enabled = caps.data?.adaptive ?? false;
  return { enabled, at: op && op.details.enabled === enabled ? op.timestamp : null, isPending: caps.isPending };
}

export function useSetAdaptive() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.migrations.setAdaptive.mutationOptions({
      onSuccess: ({ enabled }) => {
        void qc.invalidateQueries({ queryKey: trpc.logs.operations.pathKey() });
        void qc.invalidateQueries({ queryKey: trpc.migrations.caps.pathKey() });
        notifySuccess(
          `Adaptive mode ${enabled ? 'on' : 'off'}`,
          enabled
            ? 'Caps are lowered when CPU, event-loop lag or ZooKeeper latency run high, and raised again as they recover.'
            : 'Caps stay where they are now.',
        );
      },
      onError: (err) => notifyError('Could not switch adaptive mode', err),
    }),
  );
}

/** The latest cap changes with their cause (`operator`, or `adaptive: …`), from the operations log. */
export function useCapChanges(limit = 6) {
  const trpc = useTRPC();
  return useQuery(trpc.logs.operations.queryOptions({ action: 'migration_caps', limit }));
}

/** Finished tasks of one status, newest first; refreshed by useMigrationsLive when tasks leave the queue. */
export function useMigrationHistory(status: FinishedStatus, limit = 20) {
  const trpc = useTRPC();
  return useQuery(trpc.migrations.list.queryOptions({ status, limit }, { placeholderData: (prev) => prev }));
}
