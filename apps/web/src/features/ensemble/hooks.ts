import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useRef, useState } from 'react';

import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { useTRPC, type RouterInputs, type RouterOutputs } from '../../lib/trpc.ts';
import { createThrottle } from '../migrations/queue-view.ts';
import { useNodesLive } from '../nodes/hooks.ts';
import { appendProbe } from './load-series.ts';

export type LoadView = RouterOutputs['ensemble']['load'];
export type NodeLoad = LoadView['nodes'][number];
export type LoadComponent = NodeLoad['load']['components'][number];
export type LoadConfig = LoadView['config'];
export type LoadHistory = RouterOutputs['ensemble']['loadHistory'];
export type LoadSample = LoadHistory['nodes'][number]['samples'][number];
export type EnsemblePoint = LoadHistory['ensemble'][number];
export type Membership = RouterOutputs['ensemble']['membership'];
export type MemberServer = Membership['servers'][number];
export type ChangePlan = RouterOutputs['ensemble']['planChange'];
export type ChangeInput = RouterInputs['ensemble']['planChange'];
export type ChangeResult = RouterOutputs['ensemble']['addServer'];
export type QuorumFigures = ChangePlan['check']['before'];
export type RestartAnswer = RouterOutputs['ensemble']['rollingRestart'];
export type RestartPlan = RestartAnswer['plan'];
export type RestartJob = NonNullable<RouterOutputs['ensemble']['rollingRestartStatus']>;
export type RestartStep = RestartJob['steps'][number];
export type Recommendations = RouterOutputs['ensemble']['recommendations'];
export type Recommendation = Recommendations['recommendation'];
export type ScalingPolicy = RouterOutputs['ensemble']['policy'];
export type ServerRole = ChangePlan['role'];

/** The chart windows offered; the server keeps an hour. */
export const LOAD_WINDOWS = [5, 15, 60] as const;
export type LoadWindow = (typeof LOAD_WINDOWS)[number];

/** The recommendation is computed from the load history; it is re-read on load events, at most this often. */
const RECOMMENDATION_REFRESH_MS = 10_000;

/**
 * Load, live: ensemble.load and ensemble.loadHistory (the whole hour, so switching the chart window needs no
 * request) kept current by ensemble.onLoad, which brings every probe. Each event replaces the latest view and
 * appends its samples to the cached history; the scaling recommendation, which follows the history, is
 * re-read on those events, throttled.
 */
export function useLoadLive() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const latest = useQuery(trpc.ensemble.load.queryOptions());
  const history = useQuery(trpc.ensemble.loadHistory.queryOptions({ minutes: 60 }, { staleTime: Infinity }));
  const [refreshRecs] = useState(() =>
    createThrottle(() => void qc.invalidateQueries({ queryKey: trpc.ensemble.recommendations.queryKey() }), RECOMMENDATION_REFRESH_MS),
  );
  useEffect(() => () => refreshRecs.cancel(), [refreshRecs]);
  const sub = useSubscription(
    trpc.ensemble.onLoad.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        qc.setQueryData(trpc.ensemble.load.queryKey(), data);
        const samples = data.nodes.flatMap((n) => (n.sample ? [n.sample] : []));
        const point =
          samples.length > 0
            ? { at: data.ensemble.at, score: data.ensemble.score, max: data.ensemble.max, requestsPerSec: data.ensemble.requestsPerSec }
            : null;
        qc.setQueryData(trpc.ensemble.loadHistory.queryKey({ minutes: 60 }), (h) => (h ? appendProbe(h, samples, point) : h));
        refreshRecs.request();
      },
    }),
  );
  const failed = latest.error ?? sub.error;
  return {
    view: latest.data,
    history: history.data,
    historyError: history.error,
    error: !latest.data && failed ? failed : null,
  };
}

/**
 * Voters, observers, config version, each server's view; pushed again by ensemble.onMembership when the
 * config changes. That stream says nothing when only the leader or a server's reachability changes (a
 * failover, a node stopped): the shell's node stream does, and the membership is re-read on it.
 */
export function useMembershipLive() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const query = useQuery(trpc.ensemble.membership.queryOptions());
  const summary = useNodesLive().data?.summary;
  const shape = summary ? `${summary.leader ?? '-'}/${summary.upCount}/${summary.size}` : null;
  const lastShape = useRef(shape);
  useEffect(() => {
    if (shape !== null && lastShape.current !== null && shape !== lastShape.current)
      void qc.invalidateQueries({ queryKey: trpc.ensemble.membership.queryKey() });
    lastShape.current = shape;
  }, [shape, qc, trpc]);
  const sub = useSubscription(
    trpc.ensemble.onMembership.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        qc.setQueryData(trpc.ensemble.membership.queryKey(), data);
      },
    }),
  );
  const data = query.data ?? sub.data?.data;
  const failed = query.error ?? sub.error;
  return { data, error: !data && failed ? failed : null };
}

/** The guards' verdict for a change, fetched fresh each time a confirmation opens (null: no dialog open). */
export function useChangePlan(input: ChangeInput | null) {
  const trpc = useTRPC();
  return useQuery(
    trpc.ensemble.planChange.queryOptions(input ?? { action: 'add' }, { enabled: input !== null, staleTime: 0, gcTime: 0, retry: false }),
  );
}

/** After a membership change: every view that lists servers or depends on their number. */
function useAfterChange() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return () => {
    void qc.invalidateQueries({ queryKey: trpc.ensemble.pathKey() });
    void qc.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
  };
}

function describeChange(r: ChangeResult): string {
  const t = r.timings;
  const time = `${(t.totalMs / 1000).toFixed(1)} s (join ${t.joinMs} ms, reconfig ${t.reconfigMs} ms, sync ${t.syncMs} ms)`;
  const quorum = `${r.before.quorum.voters} → ${r.after.quorum.voters} voters, quorum ${r.before.quorum.quorum} → ${r.after.quorum.quorum}`;
  return `${quorum}; config ${r.after.version}; leader ${r.leader ?? '—'}. Took ${time}.${r.reconnectError ? ` ${r.reconnectError}` : ''}`;
}

export function useAddServer() {
  const trpc = useTRPC();
  const done = useAfterChange();
  return useMutation(
    trpc.ensemble.addServer.mutationOptions({
      onSuccess: (r) => {
        done();
        notifySuccess(`${r.node} added as ${r.role === 'observer' ? 'an observer' : 'a participant'}`, describeChange(r));
      },
      onError: (err, input) => {
        done();
        notifyError(`Could not add ${input?.role === 'observer' ? 'an observer' : 'a participant'}`, err);
      },
    }),
  );
}

export function useRemoveServer() {
  const trpc = useTRPC();
  const done = useAfterChange();
  return useMutation(
    trpc.ensemble.removeServer.mutationOptions({
      onSuccess: (r) => {
        done();
        notifySuccess(`${r.node} removed`, describeChange(r));
      },
      onError: (err, input) => {
        done();
        notifyError(`Could not remove ${input.node}`, err);
      },
    }),
  );
}

function restartPlanKey(trpc: ReturnType<typeof useTRPC>) {
  return trpc.ensemble.rollingRestartPlan.queryKey();
}

/** The rolling restart's dry run (ensemble.rollingRestartPlan): the order with the reason for each place. */
export function useRestartPlan() {
  const trpc = useTRPC();
  return useQuery({ ...trpc.ensemble.rollingRestartPlan.queryOptions(), staleTime: 5_000 });
}

/**
 * The current or last rolling restart, with each step's phase, pushed by ensemble.onRollingRestart. A job
 * ending changes the leader and the dry run: those are re-read then.
 */
export function useRestartJobLive() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const query = useQuery(trpc.ensemble.rollingRestartStatus.queryOptions());
  useSubscription(
    trpc.ensemble.onRollingRestart.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        qc.setQueryData(trpc.ensemble.rollingRestartStatus.queryKey(), data);
      },
    }),
  );
  // The stream writes each job state into the query (its first event is the state at connection), so a job
  // ending shows here as a change of status, compared with the last one seen like the membership's shape.
  const job = query.data ?? null;
  const status = job ? `${job.id}:${job.status}` : null;
  const ended = job !== null && job.status !== 'running';
  const lastStatus = useRef<string | null>(null);
  useEffect(() => {
    if (ended && lastStatus.current !== null && lastStatus.current !== status) {
      void qc.invalidateQueries({ queryKey: restartPlanKey(trpc) });
      void qc.invalidateQueries({ queryKey: trpc.ensemble.membership.queryKey() });
    }
    lastStatus.current = status;
  }, [status, ended, qc, trpc]);
  return { job, isPending: query.isPending, error: query.error };
}

export function useStartRollingRestart() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.ensemble.rollingRestart.mutationOptions({
      onSuccess: (res) => {
        if (res.job) qc.setQueryData(trpc.ensemble.rollingRestartStatus.queryKey(), res.job);
        notifySuccess(
          'Rolling restart started',
          `${res.plan.order.map((s) => s.node).join(' → ')}: one server at a time, each back in sync before the next.`,
        );
      },
      onError: (err) => notifyError('Could not start the rolling restart', err),
    }),
  );
}

export function useRecommendations() {
  const trpc = useTRPC();
  return useQuery(trpc.ensemble.recommendations.queryOptions());
}

export function usePolicy() {
  const trpc = useTRPC();
  return useQuery(trpc.ensemble.policy.queryOptions());
}

export function useSetPolicy() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useMutation(
    trpc.ensemble.setPolicy.mutationOptions({
      onSuccess: (p) => {
        qc.setQueryData(trpc.ensemble.policy.queryKey(), p);
        void qc.invalidateQueries({ queryKey: trpc.ensemble.recommendations.queryKey() });
        notifySuccess(
          'Scaling policy saved',
          `Up above ${p.upThreshold}, down below ${p.downThreshold}, for ${p.forMinutes} min; cool-down ${p.cooldownMinutes} min; ${p.minVoters}–${p.maxVoters} voters; automatic mode ${p.auto ? 'on' : 'off'}.`,
        );
      },
      onError: (err) => notifyError('Could not save the scaling policy', err),
    }),
  );
}
