import { Alert, Button, Card, Group, Stack, Text, Title } from '@mantine/core';

import { formatCounts } from '../../../lib/format.ts';
import { useRunScheduler, type RunResult } from '../hooks.ts';

/** In whole_plan mode (the default) a round queues the whole plan; in one_per_tick it moves one file. */
function title(result: RunResult): string {
  if (result.error) return 'Executed: the move failed';
  if (result.queued !== undefined) return result.queued > 0 ? `Executed: queued ${result.queued} move${result.queued === 1 ? '' : 's'} on the migration queue` : 'Executed: nothing to move';
  return result.executed ? 'Executed: moved one file' : 'Executed: nothing to move';
}

function RunResultView({ result }: { result: RunResult }) {
  const { before, after } = result;
  const queued = result.queued !== undefined;
  return (
    <Alert
      color={result.error ? 'red' : result.executed ? 'teal' : 'gray'}
      variant="light"
      title={title(result)}
      data-testid="run-result"
      data-executed={result.executed}
    >
      <Stack gap={2}>
        {result.executed && queued && (
          <Text size="sm" data-testid="run-queued">
            The moves run under the migration caps: follow them on the Migrations page.
          </Text>
        )}
        {result.executed && !queued && (
          <Text size="sm" data-testid="run-move">
            {before.candidate?.name ?? 'a file'}: {before.sourceNode} → {before.targetNode}
          </Text>
        )}
        {result.error && <Text size="sm">{result.error}</Text>}
        <Text size="sm" data-testid="run-counts">
          Before: {formatCounts(before.counts)} (delta {before.delta}) → after: {formatCounts(after.counts)} (delta {after.delta})
        </Text>
        <Text size="sm" c="dimmed">
          {after.message}
        </Text>
      </Stack>
    </Alert>
  );
}

/** scheduler.run: one round on demand, with what it did. */
export function RunSchedulerCard() {
  const run = useRunScheduler();
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="run-title">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} fz="md" id="run-title">
            Scheduler
          </Title>
          <Button onClick={() => run.mutate()} loading={run.isPending} disabled={run.isPending} variant="light">
            Run scheduler once
          </Button>
        </Group>
        {run.data ? (
          <RunResultView result={run.data} />
        ) : (
          <Text size="sm" c="dimmed">
            One round moves at most one file, from the busiest (or a drained) node to the emptiest non-drained node.
          </Text>
        )}
      </Stack>
    </Card>
  );
}
