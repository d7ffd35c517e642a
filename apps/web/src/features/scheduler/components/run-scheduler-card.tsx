import { Alert, Anchor, Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

import { Fact } from '../../../components/fact.tsx';
import { formatBytes } from '../../../lib/format.ts';
import { formatGap, formatMoves } from '../format.ts';
import { countsChange, useRunScheduler, useSchedulerConfig, type RunResult, type SchedulerConfig, type SchedulerPlan } from '../hooks.ts';

type Mode = RunResult['mode'];

function title(result: RunResult): string {
  if (result.error) return 'The round failed';
  if (result.mode === 'one_per_tick') return result.executed ? 'Moved one file' : 'Nothing to move';
  if (result.queued === 0) return 'Nothing to move';
  const finished = result.pending === 0 ? (result.failed > 0 ? ', some failed' : ', all done') : '';
  return `Queued ${formatMoves(result.queued)}${finished}`;
}

function RunResultView({ result }: { result: RunResult }) {
  const { before, after } = result;
  const wholePlan = result.mode === 'whole_plan';
  return (
    <Alert
      color={result.error || result.failed > 0 ? 'red' : result.executed ? 'teal' : 'gray'}
      variant="light"
      title={title(result)}
      data-testid="run-result"
      data-mode={result.mode}
      data-executed={result.executed}
      data-pending={result.pending}
    >
      <Stack gap={6}>
        {wholePlan && result.queued > 0 && (
          <SimpleGrid cols={4} spacing="xs" data-testid="run-figures">
            <Fact weight={500} label="Queued" testId="run-queued">
              {result.queued}
            </Fact>
            <Fact weight={500} label="Done" testId="run-done">
              {result.done}
            </Fact>
            <Fact weight={500} label="Pending" testId="run-pending">
              {result.pending}
            </Fact>
            <Fact weight={500} label="Failed" testId="run-failed">
              {result.failed}
            </Fact>
          </SimpleGrid>
        )}
        {wholePlan && result.pending > 0 && (
          <Text size="sm" data-testid="run-still-running">
            Waited {(result.waitedMs / 1000).toFixed(1)} s; {formatMoves(result.pending)} still run under the migration caps: follow them on
            the{' '}
            <Anchor component={Link} to="/migrations" inherit>
              Migrations page
            </Anchor>
            .
          </Text>
        )}
        {!wholePlan && result.executed && (
          <Text size="sm" data-testid="run-move">
            {before.candidate?.name ?? 'a file'}: {before.sourceNode} → {before.targetNode}
          </Text>
        )}
        {result.error && <Text size="sm">{result.error}</Text>}
        <Text size="sm" data-testid="run-counts">
          Files per node: {countsChange(before.counts, after.counts)}
        </Text>
        <Text size="sm" data-testid="run-spread">
          Spread {formatGap(before.unit, before.delta)} → {formatGap(after.unit, after.delta)} (threshold{' '}
          {formatGap(after.unit, after.thresholdInUnit)}){after.balanced ? ': balanced' : ''}
        </Text>
        <Text size="sm" c="dimmed" data-testid="run-after-message">
          Now: {after.message}
        </Text>
      </Stack>
    </Alert>
  );
}

/** What one round does in the mode that is running, with the size of the plan it would act on now. */
function modeText(mode: Mode, plan: SchedulerPlan | undefined): string {
  if (mode === 'one_per_tick') {
    return 'Mode one_per_tick: each round moves at most one file, the plan’s first move (from the most loaded or a drained node to the least loaded one).';
  }
  const size = plan
    ? plan.moves === 0
      ? ' (nothing to move now)'
      : ` (now ${formatMoves(plan.moves)}, ${formatBytes(plan.bytesToMove)})`
    : '';
  return `Mode whole_plan: each round queues the whole plan${size} under the migration caps, and waits a little for it to finish.`;
}

function autoText(config: SchedulerConfig): string {
  return config.enabled ? `Automatic rounds every ${config.intervalSec} s.` : 'Automatic rounds are off.';
}

/** scheduler.run: one round on demand, with what it did. */
export function RunSchedulerCard({ plan }: { plan?: SchedulerPlan | undefined }) {
  const run = useRunScheduler();
  const config = useSchedulerConfig();
  const mode: Mode = config.data?.mode ?? 'whole_plan';
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="run-title">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} fz="md" id="run-title">
            Scheduler
          </Title>
          <Button onClick={() => run.mutate({})} loading={run.isPending} disabled={run.isPending} variant="light">
            Run scheduler once
          </Button>
        </Group>
        <Text size="sm" c="dimmed" data-testid="run-mode" data-mode={mode}>
          {modeText(mode, plan)} {config.data ? autoText(config.data) : ''}
        </Text>
        {run.data && <RunResultView result={run.data} />}
      </Stack>
    </Card>
  );
}
