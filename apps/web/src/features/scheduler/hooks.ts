import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type SchedulerPlan = RouterOutputs['scheduler']['diagnostics'];
export type RunResult = RouterOutputs['scheduler']['run'];
export type SchedulerConfig = RouterOutputs['scheduler']['config'];

/**
 * The live plan (scheduler.onPlan): the current one at once, then every re-plan.
 * `onPlan` lets a caller also record each plan (the charts do).
 */
export function usePlanLive(onPlan?: (plan: SchedulerPlan) => void) {
  const trpc = useTRPC();
  const sub = useSubscription(
    trpc.scheduler.onPlan.subscriptionOptions(undefined, {
      onData: ({ data }) => onPlan?.(data),
    }),
  );
  return { plan: sub.data?.data, status: sub.status, error: sub.error };
}

export function useSchedulerConfig() {
  const trpc = useTRPC();
  return useQuery(trpc.scheduler.config.queryOptions());
}

export function useSetSchedulerConfig() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.scheduler.setConfig.mutationOptions({
      onSuccess: (cfg) => {
        qc.setQueryData(trpc.scheduler.config.queryKey(), cfg);
        notifySuccess(
          'Scheduler settings saved',
          `Threshold ${cfg.threshold}, every ${cfg.intervalSec} s, automatic runs ${cfg.enabled ? 'on' : 'off'}.`,
        );
      },
      onError: (err) => notifyError('Could not save the scheduler settings', err),
    }),
  );
}

/** "zk1 12 → 4, zk2 0 → 4": the counts a round changed (all of them when none changed). */
export function countsChange(before: Record<string, number>, after: Record<string, number>): string {
  const nodes = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = nodes.filter((n) => (before[n] ?? 0) !== (after[n] ?? 0));
  return (changed.length > 0 ? changed : nodes).map((n) => `${n} ${before[n] ?? 0} → ${after[n] ?? 0}`).join(', ');
}

/**
 * One scheduler round (scheduler.run). In whole_plan mode it queues the whole plan and waits up to `waitMs` (the
 * server's default when unset) for it to finish; in one_per_tick mode it moves at most one file.
 */
export function useRunScheduler() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.scheduler.run.mutationOptions({
      onSuccess: (res) => {
        void qc.invalidateQueries({ queryKey: trpc.workload.tasks.queryKey() });
        const counts = countsChange(res.before.counts, res.after.counts);
        if (res.error) {
          notifyError('The scheduler round failed', new Error(res.error));
        } else if (res.mode === 'whole_plan' && res.queued > 0) {
          notifySuccess(
            `Scheduler queued ${res.queued} move${res.queued === 1 ? '' : 's'}`,
            `${res.done} done, ${res.pending} pending${res.failed > 0 ? `, ${res.failed} failed` : ''}. Counts: ${counts}.`,
          );
        } else if (res.mode === 'one_per_tick' && res.executed) {
          notifySuccess(
            'Scheduler moved a file',
            `${res.before.candidate?.name ?? 'a file'}: ${res.before.sourceNode} → ${res.before.targetNode}`,
          );
        } else {
          notifySuccess('Scheduler ran: nothing to move', res.after.message);
        }
      },
      onError: (err) => notifyError('Could not run the scheduler', err),
    }),
  );
}
