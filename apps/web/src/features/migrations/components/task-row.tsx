import { ActionIcon, Badge, Box, Group, Progress, Stack, Text, Tooltip } from '@mantine/core';

import { formatBytes, formatDuration } from '../../../lib/format.ts';
import { formatRate, pct } from '../format.ts';
import { useQueueAction, type MigrationTask } from '../hooks.ts';

const STATUS_COLOR: Record<MigrationTask['status'], string> = {
  pending: 'gray',
  running: 'indigo',
  paused: 'yellow',
  completed: 'teal',
  failed: 'red',
  cancelled: 'gray',
};

/** One queued move: what it is, how far its copy got, and its controls (pause, resume, cancel). */
export function TaskRow({
  task,
  rate,
  shareRate,
  waitMessage,
  first,
}: {
  task: MigrationTask;
  rate: number | undefined;
  /** The queue's rate split over the running copies: the estimate until this copy's own rate is measured. */
  shareRate: number;
  waitMessage: string | undefined;
  first: boolean;
}) {
  // A list item that wraps instead of a table row: on a phone the facts take one line, bar and buttons the next.
  return (
    <Box
      role="listitem"
      py={8}
      style={first ? undefined : { borderTop: '1px solid var(--mantine-color-default-border)' }}
      data-testid="queue-task"
      data-task-id={task.id}
      data-status={task.status}
    >
      <Group gap="xs" wrap="wrap" align="center">
        <TaskSummary task={task} />
        <TaskCopy task={task} rate={rate} shareRate={shareRate} />
        <TaskControls task={task} />
      </Group>
      {task.error && (
        <Text size="xs" c="red" mt={4} data-testid="task-error">
          {task.error}
        </Text>
      )}
      {waitMessage && task.status !== 'running' && (
        <Text size="xs" c="dimmed" fs="italic" mt={2}>
          waits: {waitMessage}
        </Text>
      )}
    </Box>
  );
}

/** Status, name, and the move itself: source, target, priority, deadline. */
function TaskSummary({ task }: { task: MigrationTask }) {
  return (
    <Stack gap={2} style={{ flex: '1 1 240px', minWidth: 0 }}>
      <Group gap={6} wrap="nowrap">
        <Badge size="sm" variant="light" color={STATUS_COLOR[task.status]} style={{ flexShrink: 0 }} data-testid="task-status">
          {task.status}
        </Badge>
        <Text size="sm" fw={500} truncate="end" title={task.name}>
          {task.name}
        </Text>
      </Group>
      <Text size="xs" c="dimmed">
        #{task.id} · {task.source} → {task.target} · priority {task.priority}
        {task.deadline ? ` · due ${new Date(task.deadline).toLocaleString()}` : ''}
      </Text>
    </Stack>
  );
}

/** The copy's progress bar, bytes, and while it runs its rate and ETA. */
function TaskCopy({ task, rate, shareRate }: { task: MigrationTask; rate: number | undefined; shareRate: number }) {
  const value = pct(task.bytesDone, task.bytes);
  const speed = rate && rate > 0 ? rate : shareRate;
  const eta = task.status === 'running' && speed > 0 ? ((task.bytes - task.bytesDone) / speed) * 1000 : null;
  return (
    <Box style={{ flex: '1 1 180px' }}>
      <Progress
        value={value}
        size="md"
        color={task.status === 'paused' ? 'yellow' : 'indigo'}
        aria-label={`Copy of ${task.name}`}
        data-testid="task-progress"
      />
      <Text size="xs" c="dimmed" mt={4} data-testid="task-bytes">
        {formatBytes(task.bytesDone)} of {formatBytes(task.bytes)}
        {task.status === 'running' && `${rate ? ` · ${formatRate(rate)}` : ''} · ETA ${formatDuration(eta)}`}
      </Text>
    </Box>
  );
}

/** Pause or resume, and cancel, one task. */
function TaskControls({ task }: { task: MigrationTask }) {
  const act = useQueueAction();
  const label = `task #${task.id} (${task.name})`;
  return (
    <Group gap={4} wrap="nowrap">
      {task.status === 'paused' ? (
        <Tooltip label="Resume">
          <ActionIcon
            variant="light"
            color="teal"
            aria-label={`Resume ${label}`}
            onClick={() => act.mutate({ action: 'resume', id: task.id })}
            loading={act.isPending && act.variables.action === 'resume'}
            disabled={act.isPending}
          >
            ▶
          </ActionIcon>
        </Tooltip>
      ) : (
        <Tooltip label={task.status === 'pending' ? 'Pause' : 'A running copy cannot be paused: cancel it, or pause the queue'}>
          <ActionIcon
            variant="light"
            color="yellow"
            aria-label={`Pause ${label}`}
            onClick={() => act.mutate({ action: 'pause', id: task.id })}
            loading={act.isPending && act.variables.action === 'pause'}
            disabled={act.isPending || task.status !== 'pending'}
          >
            ❚❚
          </ActionIcon>
        </Tooltip>
      )}
      <Tooltip label="Cancel">
        <ActionIcon
          variant="light"
          color="red"
          aria-label={`Cancel ${label}`}
          onClick={() => act.mutate({ action: 'cancel', id: task.id })}
          loading={act.isPending && act.variables.action === 'cancel'}
          disabled={act.isPending}
        >
          ✕
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}

/** The migration queue (migrations.onProgress): totals, wait reasons, and each open task with its controls. */
