import { Alert, Badge, Button, Card, Group, Loader, Modal, Progress, ScrollArea, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { ErrorState } from '../../../components/query-state.tsx';
import { formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import {
  useRestartJobLive,
  useRestartPlan,
  useStartRollingRestart,
  type RestartJob,
  type RestartPlan,
  type RestartStep,
} from '../hooks.ts';

const MODE_COLOR: Record<string, string> = { leader: 'indigo', follower: 'gray', observer: 'grape' };
const PHASE_COLOR: Record<RestartStep['phase'], string> = {
  pending: 'gray',
  restarting: 'orange',
  syncing: 'blue',
  done: 'teal',
  failed: 'red',
};
const STATUS_COLOR: Record<RestartJob['status'], string> = { running: 'blue', succeeded: 'teal', failed: 'red' };

/** The dry run: the order, each server's mode and why it is at its place. */
function PlanTable({ plan }: { plan: RestartPlan }) {
  return (
    <ScrollArea type="auto">
      <Table fz="sm" verticalSpacing={6} aria-label="Rolling restart plan" data-testid="restart-plan">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>#</Table.Th>
            <Table.Th>Server</Table.Th>
            <Table.Th>Why here</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.order.map((s, i) => (
            <Table.Tr key={s.node} data-testid="restart-plan-step" data-node={s.node} data-mode={s.mode}>
              <Table.Td>{i + 1}</Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <Group gap={6} wrap="nowrap">
                  <Text fw={600} size="sm">
                    {s.node}
                  </Text>
                  <Badge
                    size="sm"
                    variant={s.mode === 'leader' ? 'filled' : 'light'}
                    color={MODE_COLOR[s.mode] ?? 'gray'}
                    style={{ flexShrink: 0 }}
                  >
                    {s.mode}
                  </Badge>
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{s.reason}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

function stepTiming(s: RestartStep): string {
  switch (s.phase) {
    case 'pending':
      return 'waiting for its turn';
    case 'restarting':
      return 'restarting…';
    case 'syncing':
      return `back after ${formatDuration(s.restartMs)}; waiting for sync (${formatDuration(s.waitedMs)} so far)`;
    case 'done':
      return `back after ${formatDuration(s.restartMs)}, in sync ${formatDuration(s.waitedMs)} later${s.leaderAfter ? `; leader ${s.leaderAfter}` : ''}`;
    case 'failed':
      return `failed${s.restartMs !== null ? ` (back after ${formatDuration(s.restartMs)}, waited ${formatDuration(s.waitedMs)} for sync)` : ''}`;
  }
}

/** A job's steps with their phase, live from ensemble.onRollingRestart. */
function JobProgress({ job }: { job: RestartJob }) {
  const done = job.steps.filter((s) => s.phase === 'done').length;
  const total = job.steps.length;
  return (
    <Stack gap="xs" data-testid="restart-job" data-status={job.status}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Badge color={STATUS_COLOR[job.status]} variant={job.status === 'running' ? 'light' : 'filled'} data-testid="restart-job-status">
            {job.status}
          </Badge>
          <Text size="sm">
            {done} of {total} restarted
          </Text>
        </Group>
        <Text size="xs" c="dimmed">
          started {formatTime(job.startedAt)}
          {job.totalMs !== null ? ` · took ${formatDuration(job.totalMs)}` : ''}
          {job.leaderBefore
            ? ` · leader ${job.leaderBefore}${job.leaderAfter && job.leaderAfter !== job.leaderBefore ? ` → ${job.leaderAfter}` : ''}`
            : ''}
        </Text>
      </Group>
      <Progress
        value={total ? (done / total) * 100 : 0}
        color={job.status === 'failed' ? 'red' : 'teal'}
        aria-label={`Rolling restart: ${done} of ${total} servers done`}
        animated={job.status === 'running'}
      />
      {job.error && (
        <Alert color="red" title="The rolling restart stopped" role="alert">
          {job.error}
        </Alert>
      )}
      <Stack gap={4} component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Steps">
        {job.steps.map((s, i) => (
          <Group key={s.node} gap="xs" wrap="nowrap" component="li" data-testid="restart-step" data-node={s.node} data-phase={s.phase}>
            <Text size="sm" c="dimmed" w={18}>
              {i + 1}.
            </Text>
            <Text size="sm" fw={600} w={48}>
              {s.node}
            </Text>
            <Badge
              size="sm"
              color={PHASE_COLOR[s.phase]}
              variant={s.phase === 'done' ? 'filled' : 'light'}
              miw={84}
              style={{ flexShrink: 0 }}
              data-testid="restart-step-phase"
            >
              {s.phase}
            </Badge>
            {(s.phase === 'restarting' || s.phase === 'syncing') && <Loader size={12} aria-hidden />}
            <Text size="xs" c="dimmed" style={{ minWidth: 0 }}>
              {stepTiming(s)}
            </Text>
          </Group>
        ))}
      </Stack>
    </Stack>
  );
}

/** The dry run: the planned order, and why a real run cannot start (not available here, or not in sync). */
function DryRun({ plan, running }: { plan: ReturnType<typeof useRestartPlan>; running: boolean }) {
  return (
    <>
      <Title order={4} fz="sm">
        Dry run{running ? ' (as planned before the run)' : ''}
      </Title>
      {plan.isPending ? (
        <Skeleton height={110} aria-label="Planning the rolling restart" />
      ) : plan.isError ? (
        <ErrorState title="Could not plan the rolling restart" error={plan.error} />
      ) : (
        <>
          <PlanTable plan={plan.data} />
          {!plan.data.supported && (
            <Alert color="gray" title="Not available here">
              {plan.data.unsupportedReason}
            </Alert>
          )}
          {plan.data.supported && !plan.data.ready && (
            <Alert color="yellow" title="Not ready: the ensemble is not in sync" data-testid="restart-not-ready">
              {plan.data.notReadyReason}
            </Alert>
          )}
        </>
      )}
    </>
  );
}

/** The confirmation before the real run: the order, and the pause in writes when the leader goes last. */
function ConfirmRestart({
  opened,
  plan,
  onClose,
  onConfirm,
}: {
  opened: boolean;
  plan: RestartPlan | undefined;
  onClose: () => void;
  onConfirm: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title="Restart every server, one at a time?" centered>
      {plan && (
        <Stack gap="sm">
          <Text size="sm">
            {plan.order.map((s) => s.node).join(' → ')}. Each server stops and starts again; the next waits until the ensemble is back in
            sync. Writes pause briefly when the leader ({plan.leader ?? '?'}) goes last.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button color="orange" data-autofocus onClick={onConfirm}>
              Restart {plan.order.length} servers
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/**
 * Rolling restart: the dry run first (ensemble.rollingRestart with dryRun, the default), then, after a
 * confirmation, the real run with each step's progress live.
 */
export function RollingRestartCard() {
  const { job } = useRestartJobLive();
  const running = job?.status === 'running';
  const plan = useRestartPlan();
  const start = useStartRollingRestart();
  const [confirming, setConfirming] = useState(false);
  const p = plan.data;
  const canRun = p !== undefined && p.supported && p.ready && !running && !start.isPending;

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="restart-title" data-testid="restart-card">
      <Group justify="space-between" align="flex-start" mb="xs" wrap="wrap" gap="xs">
        <div>
          <Title order={3} fz="md" id="restart-title">
            Rolling restart
          </Title>
          <Text size="xs" c="dimmed">
            One server at a time, observers and followers first, the leader last; each back in sync before the next.
          </Text>
        </div>
        <Group gap="xs">
          <Button size="xs" variant="default" onClick={() => void plan.refetch()} loading={plan.isFetching}>
            Refresh plan
          </Button>
          <Button size="xs" color="orange" onClick={() => setConfirming(true)} disabled={!canRun} loading={start.isPending}>
            Restart for real…
          </Button>
        </Group>
      </Group>
      <Stack gap="sm">
        {job && <JobProgress job={job} />}
        <DryRun plan={plan} running={running} />
      </Stack>
      <ConfirmRestart
        opened={confirming}
        plan={p}
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          start.mutate({ dryRun: false });
        }}
      />
    </Card>
  );
}
