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

/** One scheduler round: moves at most one file. */
export function useRunScheduler() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.scheduler.run.mutationOptions({
      onSuccess: (res) => {
        void qc.invalidateQueries({ queryKey: trpc.workload.tasks.queryKey() });
        if (res.executed) {
          const moved = res.before.candidate?.name ?? 'a file';
          notifySuccess('Scheduler moved a file', `${moved}: ${res.before.sourceNode} → ${res.before.targetNode}`);
        } else if (res.error) {
          notifyError('The scheduler could not move the file', new Error(res.error));
        } else {
          notifySuccess('Scheduler ran: nothing to move', res.after.message);
        }
      },
      onError: (err) => notifyError('Could not run the scheduler', err),
    }),
  );
}
