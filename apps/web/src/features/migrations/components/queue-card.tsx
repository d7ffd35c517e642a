import { Alert, Badge, Box, Button, Card, Group, Modal, Progress, ScrollArea, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatBytes } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatRate, pct } from '../format.ts';
import { useQueueAction, type MigrationProgress, type MigrationsLive } from '../hooks.ts';
import { groupWaiting, sortTasks, WAIT_LABEL } from '../queue-view.ts';
import { TaskRow } from './task-row.tsx';
import { Fact } from '../../../components/fact.tsx';

/** Rows drawn at most: a plan can queue thousands of moves; the totals above count them all. */
const MAX_ROWS = 100;

type QueueActionMutation = ReturnType<typeof useQueueAction>;
type QueueTotals = MigrationProgress['totals'];

/** Whole-plan totals: bytes moved and left, rate, ETA, and the queue-wide pause / resume / cancel. */
function Totals({ progress }: { progress: MigrationProgress }) {
  const { totals } = progress;
  const act = useQueueAction();
  const [confirm, setConfirm] = useState(false);
  const open = totals.pending + totals.running + totals.paused;
  return (
    <Stack gap="xs" data-testid="queue-totals">
      <TotalsFacts totals={totals} open={open} />
      <TotalsBar progress={progress} open={open} />
      <QueueControls paused={progress.paused} open={open} act={act} onCancelAll={() => setConfirm(true)} />
      <CancelAllDialog opened={confirm} open={open} act={act} onClose={() => setConfirm(false)} />
    </Stack>
  );
}

function TotalsFacts({ totals, open }: { totals: QueueTotals; open: number }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
      <Fact label="Running / waiting" testId="totals-counts">
        {totals.running} / {totals.pending}
        {totals.paused > 0 ? ` (+${totals.paused} paused)` : ''}
        {totals.cleanupsOwed > 0 ? ` (${totals.cleanupsOwed} copies to delete once their node's agent answers)` : ''}
      </Fact>
      <Fact label="Moved / left" testId="totals-bytes">
        {formatBytes(totals.bytesDone)} / {formatBytes(totals.bytesLeft)}
      </Fact>
      <Fact label="Rate" testId="totals-rate">
        {formatRate(totals.rateBytesPerSec)}
      </Fact>
      <Fact label="ETA" testId="totals-eta">
        {open === 0 ? '—' : formatDuration(totals.etaMs)}
      </Fact>
    </SimpleGrid>
  );
}

function TotalsBar({ progress, open }: { progress: MigrationProgress; open: number }) {
  const { totals } = progress;
  const value = pct(totals.bytesDone, totals.bytesDone + totals.bytesLeft);
  return (
    <Progress.Root size="lg" aria-hidden={open === 0}>
      <Progress.Section
        value={value}
        color={progress.paused ? 'yellow' : 'indigo'}
        animated={totals.running > 0}
        striped={totals.running > 0}
        aria-label={`Open tasks: ${Math.round(value)}% of their bytes copied`}
        data-testid="totals-bar"
      />
    </Progress.Root>
  );
}

/** Pause or resume the whole queue, and ask before cancelling every open task. */
function QueueControls({
  paused,
  open,
  act,
  onCancelAll,
}: {
  paused: boolean;
  open: number;
  act: QueueActionMutation;
  onCancelAll: () => void;
}) {
  // A queue-wide action (no task id) is in flight.
  const busy = act.isPending && act.variables.id === undefined;
  return (
    <Group gap="xs" wrap="wrap">
      {paused ? (
        <Button
          size="xs"
          variant="light"
          color="teal"
          onClick={() => act.mutate({ action: 'resume' })}
          disabled={act.isPending}
          loading={busy && act.variables.action === 'resume'}
        >
          Resume queue
        </Button>
      ) : (
        <Button
          size="xs"
          variant="light"
          color="yellow"
          onClick={() => act.mutate({ action: 'pause' })}
          disabled={act.isPending || open === 0}
          loading={busy && act.variables.action === 'pause'}
        >
          Pause queue
        </Button>
      )}
      <Button
        size="xs"
        variant="light"
        color="red"
        onClick={onCancelAll}
        disabled={act.isPending || open === 0}
        loading={busy && act.variables.action === 'cancel'}
      >
        Cancel all
      </Button>
    </Group>
  );
}

function CancelAllDialog({ opened, open, act, onClose }: { opened: boolean; open: number; act: QueueActionMutation; onClose: () => void }) {
  const busy = act.isPending && act.variables.id === undefined;
  return (
    <Modal opened={opened} onClose={busy ? () => undefined : onClose} title="Cancel every open migration?" centered>
      <Stack>
        <Text size="sm">
          {open} {open === 1 ? 'task stops' : 'tasks stop'}: running copies are aborted and their partial copies removed, so every file
          stays whole on its source node. Finished moves stay done.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} disabled={busy}>
            Keep them
          </Button>
          <Button
            color="red"
            loading={busy}
            disabled={busy}
            data-autofocus
            onClick={() => act.mutate({ action: 'cancel' }, { onSettled: onClose })}
          >
            Cancel {open} {open === 1 ? 'task' : 'tasks'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** "Why is nothing moving": the engine's wait reasons, grouped. Loud when no copy runs at all. */
function WaitReasons({ progress }: { progress: MigrationProgress }) {
  const groups = groupWaiting(progress.waiting);
  if (groups.length === 0) return null;
  const stalled = progress.totals.running === 0;
  return (
    <Alert
      color={stalled ? 'orange' : 'gray'}
      variant="light"
      title={
        stalled ? 'Why is nothing moving?' : `Why ${progress.waiting.length} ${progress.waiting.length === 1 ? 'task waits' : 'tasks wait'}`
      }
      data-testid="wait-reasons"
      data-stalled={stalled}
    >
      <Stack gap={4}>
        {groups.map((g) => (
          <Text size="sm" key={g.reason} data-testid={`wait-${g.reason}`}>
            <b>
              {g.count} × {WAIT_LABEL[g.reason]}
            </b>
            <Text span c="dimmed" inherit>
              {' '}
              — {g.example}
            </Text>
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

export function QueueCard({ live }: { live: MigrationsLive }) {
  const { progress } = live;
  const tasks = progress ? sortTasks(progress.tasks) : [];
  // A task's own wait line only when it says more than the grouped reasons above (same words: not repeated).
  const examples = new Set(progress ? groupWaiting(progress.waiting).map((g) => g.example) : []);
  const shareRate = progress && progress.totals.running > 0 ? progress.totals.rateBytesPerSec / progress.totals.running : 0;
  const waits = new Map(progress?.waiting.filter((w) => !examples.has(w.message)).map((w) => [Number(w.id), w.message]) ?? []);
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="queue-title" data-testid="queue-card">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs">
            <Title order={3} fz="md" id="queue-title">
              Queue
            </Title>
            {progress?.paused && (
              <Badge color="yellow" variant="filled" data-testid="queue-paused">
                paused
              </Badge>
            )}
          </Group>
          {progress && (
            <Text size="xs" c="dimmed">
              Ordered by {progress.policy}
            </Text>
          )}
        </Group>
        {!progress ? (
          live.error ? (
            <ErrorState title="The queue stream failed" error={live.error} />
          ) : (
            <Loading label="Connecting to the queue…" />
          )
        ) : (
          <>
            <Totals progress={progress} />
            <WaitReasons progress={progress} />
            {tasks.length === 0 ? (
              <Empty>The queue is empty. Queue a plan from the dry run to start moving files.</Empty>
            ) : (
              <ScrollArea.Autosize mah={600} type="auto">
                <Box role="list" aria-label="Open migration tasks" data-testid="queue-list">
                  {tasks.slice(0, MAX_ROWS).map((t, i) => (
                    <TaskRow
                      key={t.id}
                      first={i === 0}
                      task={t}
                      rate={live.rates.get(t.id)}
                      shareRate={shareRate}
                      waitMessage={waits.get(t.id)}
                    />
                  ))}
                </Box>
                {tasks.length > MAX_ROWS && (
                  <Text size="xs" c="dimmed" mt="xs">
                    and {tasks.length - MAX_ROWS} more waiting tasks
                  </Text>
                )}
              </ScrollArea.Autosize>
            )}
          </>
        )}
      </Stack>
    </Card>
  );
}
