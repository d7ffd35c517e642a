import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterOutputs, type StreamedData } from '../../lib/trpc.ts';
import { runSummary } from '../scheduler/format.ts';
import { usePlanLive } from '../scheduler/hooks.ts';
import { useOperationsLive } from '../logs/hooks.ts';
import { addMigration, addPlan, BUCKET_MS, CHART_WINDOW_MS, moveBatchOf, seriesStore } from './live-series.ts';

export type StressResult = RouterOutputs['workload']['stress'];
export type TasksPage = RouterOutputs['workload']['tasks'];
export type GeneratorState = RouterOutputs['workload']['state'];
/** What the server streams on workload.onProgress, inferred from the router (never restated here). */
export type ProgressEvent = StreamedData<RouterOutputs['workload']['onProgress']>;

export function useStress() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.workload.stress.mutationOptions({
      onSuccess: (res) => {
        void qc.invalidateQueries({ queryKey: trpc.workload.tasks.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.files.pathKey() });
        const sched = res.scheduler ? ` Scheduler: ${runSummary(res.scheduler)}.` : '';
        notifySuccess(
          `Created ${res.created} files on ${res.node ?? 'the cluster'}`,
          `Counts now: ${Object.entries(res.counts)
            .map(([n, c]) => `${n} ${c}`)
            .join(', ')}.${sched}`,
        );
      },
      onError: (err, input) => notifyError(`Could not create files on ${input.node}`, err),
    }),
  );
}

export function useTasks(limit = 20) {
  const trpc = useTRPC();
  return useQuery(trpc.workload.tasks.queryOptions({ limit }));
}

/** The latest progress of each job seen since the page opened, newest job first. */
export function useProgressLive(): ProgressEvent[] {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [jobs, setJobs] = useState<ProgressEvent[]>([]);
  useSubscription(
    trpc.workload.onProgress.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        setJobs((prev) => {
          // One bar per job and phase; a job's next phase means its earlier one is over.
          const rest = prev
            .filter((j) => !(j.jobId === data.jobId && j.kind === data.kind))
            .map((j) => (j.jobId === data.jobId && !j.finished ? { ...j, finished: true } : j));
          return [data, ...rest].slice(0, 6);
        });
        // A job starting or ending changes the task table: refetch it on the event, never on a timer.
        if (data.finished || data.done === 0) void qc.invalidateQueries({ queryKey: trpc.workload.tasks.queryKey() });
      },
    }),
  );
  return jobs;
}

/**
 * Feeds the chart series from the streams while the workload page is open, and invalidates what the operations
 * stream makes stale (tasks, scheduler settings). Seeds the migrations chart from the log of the last minutes.
 */
export function useWorkloadStreams() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const plan = usePlanLive((p) =>
    seriesStore.update((s) => addPlan(s, { t: Date.now(), counts: p.counts, delta: p.delta, threshold: p.thresholdInUnit, unit: p.unit })),
  );
  useOperationsLive((op) => {
    const batch = moveBatchOf(op);
    if (batch) seriesStore.update((s) => addMigration(s, op.id, batch));
    if (op.action === 'scheduler_config') void qc.invalidateQueries({ queryKey: trpc.scheduler.config.queryKey() });
    // The generator's state changes with its own operations (workload_tick, _start, _stop, _config): no polling.
    if (op.action.startsWith('workload_')) void qc.invalidateQueries({ queryKey: trpc.workload.state.queryKey() });
    void qc.invalidateQueries({ queryKey: trpc.workload.tasks.queryKey() });
  });
  // Seed the charts with the last minutes from the audit log: each recorded operation carries the counts after it.
  const [from] = useState(() => new Date(Date.now() - CHART_WINDOW_MS - BUCKET_MS).toISOString());
  const seed = useQuery(trpc.logs.operations.queryOptions({ from, limit: 500 }));
  useEffect(() => {
    for (const op of seed.data?.items ?? []) {
      const t = Date.parse(op.timestamp);
      const batch = moveBatchOf(op);
      if (batch) seriesStore.update((s) => addMigration(s, op.id, batch));
      // Counts only: the spread of a past moment depends on sizes and the strategy then, which the log does not keep.
      const after = op.afterMetrics as { counts?: unknown } | null;
      if (after && typeof after.counts === 'object' && after.counts !== null) {
        const counts = after.counts as Record<string, number>;
        seriesStore.update((s) => addPlan(s, { t, counts, delta: null, threshold: null }));
      }
    }
  }, [seed.data]);
  return plan;
}

export function useSeries() {
  return useSyncExternalStore(seriesStore.subscribe, seriesStore.get);
}

/** Re-renders every `ms` so time-based charts slide; it reads nothing from the server. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** The demo workload generator: on/off, its bounds, what it holds now. Refreshed by useWorkloadStreams on its operations. */
export function useGeneratorState() {
  const trpc = useTRPC();
  return useQuery(trpc.workload.state.queryOptions(undefined, { staleTime: 0 }));
}

function useSetGeneratorState() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return (state: GeneratorState) => qc.setQueryData(trpc.workload.state.queryKey(), state);
}

export function useStartGenerator() {
  const trpc = useTRPC();
  const set = useSetGeneratorState();
  return useMutation(
    trpc.workload.start.mutationOptions({
      onSuccess: (state) => {
        set(state);
        notifySuccess('Workload generator started', `A tick every ${state.intervalSec} s, up to ${state.maxFiles} files.`);
      },
      onError: (err) => notifyError('Could not start the workload generator', err),
    }),
  );
}

export function useStopGenerator() {
  const trpc = useTRPC();
  const set = useSetGeneratorState();
  return useMutation(
    trpc.workload.stop.mutationOptions({
      onSuccess: (state) => {
        set(state);
        notifySuccess('Workload generator stopped', `After ${state.ticks} ticks; it still owns ${state.filesOwned} files.`);
      },
      onError: (err) => notifyError('Could not stop the workload generator', err),
    }),
  );
}

export function useConfigureGenerator() {
  const trpc = useTRPC();
  const set = useSetGeneratorState();
  return useMutation(
    trpc.workload.configure.mutationOptions({
      onSuccess: (state) => {
        set(state);
        notifySuccess(
          'Workload settings saved',
          `Every ${state.intervalSec} s, up to ${state.maxFiles} files of ${state.minSizeKb}–${state.maxSizeKb} KiB, ${state.extraClients} extra sessions.`,
        );
      },
      onError: (err) => notifyError('Could not save the workload settings', err),
    }),
  );
}
