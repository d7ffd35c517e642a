import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  ScrollArea,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { lazy, Suspense, useState } from 'react';

import { CAPACITY_TREND_WORDS } from '@zkha/core';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatBytes, formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatFraction } from '../../migrations/format.ts';
import {
  useCapacityHistory,
  useCapacityRecommendation,
  useCapacitySamples,
  useSampleCapacity,
  type CapacityAction,
  type CapacityView,
} from '../hooks.ts';
import { Fact } from '../../../components/fact.tsx';

// The charting library loads with the chart only, after the rest of the page.
const UsageChart = lazy(() => import('./usage-chart.tsx'));

export const ACTION_COLOR: Record<CapacityAction, string> = { scale_up: 'red', scale_down: 'blue', no_action: 'teal' };
const ACTION_LABEL: Record<CapacityAction, string> = { scale_up: 'scale up', scale_down: 'scale down', no_action: 'no action' };

function headline(r: Pick<CapacityView, 'action' | 'nodesToAdd' | 'nodesToRemove'>): string {
  switch (r.action) {
    case 'scale_up':
      return `Add ${r.nodesToAdd} ${r.nodesToAdd === 1 ? 'node' : 'nodes'}`;
    case 'scale_down':
      return `Remove ${r.nodesToRemove} ${r.nodesToRemove === 1 ? 'node' : 'nodes'}`;
    case 'no_action':
      return 'No change needed';
  }
}

/** "+1.2 GiB/day", "−300 MiB/day", "0 B/day". */
function growth(bytesPerDay: number): string {
  const sign = bytesPerDay > 0 ? '+' : bytesPerDay < 0 ? '−' : '';
  return `${sign}${formatBytes(Math.abs(Math.round(bytesPerDay)))}/day`;
}

function Recommendation({ r }: { r: CapacityView }) {
  const unknown = r.nodes.filter((n) => n.source === 'unknown').map((n) => n.node);
  return (
    <Stack gap="sm">
      <Group gap="xs" wrap="wrap">
        <Text fw={700} data-testid="capacity-headline">
          {headline(r)}
        </Text>
        <Badge color={ACTION_COLOR[r.action]} variant="light" data-testid="capacity-action" data-action={r.action}>
          {ACTION_LABEL[r.action]}
        </Badge>
      </Group>
      <Text size="sm" data-testid="capacity-reason">
        {r.reason}
      </Text>
      <div>
        <Progress
          value={Math.min(100, r.utilization * 100)}
          color={ACTION_COLOR[r.action]}
          aria-label={`Utilization ${formatFraction(r.utilization)}, target ${formatFraction(r.targetUtilization)}`}
        />
        <Text size="xs" c="dimmed" mt={4}>
          {formatFraction(r.utilization)} used · target {formatFraction(r.targetUtilization)}, no action between{' '}
          {formatFraction(r.lowerUtilization)} and {formatFraction(r.upperUtilization)}
        </Text>
      </div>
      <SimpleGrid cols={{ base: 2, xs: 3 }} spacing="sm">
        <Fact label="Used / capacity" testId="capacity-used">
          {formatBytes(r.usedBytes)} / {formatBytes(r.capacityBytes)}
        </Fact>
        <Fact label="After the change" testId="capacity-after">
          {formatFraction(r.utilizationAfter)}
        </Fact>
        {/* Without an hour of samples the trend is 'unknown' ("not enough history"), and no growth is shown. */}
        <Fact label="Trend" testId="capacity-trend">
          {r.trend === 'unknown' ? CAPACITY_TREND_WORDS.unknown : `${r.trend} (${growth(r.growthBytesPerDay)})`}
        </Fact>
        <Fact label="Time to target" testId="capacity-time-to-target">
          {!r.enoughHistory
            ? '—'
            : r.timeToTargetMs === null
              ? r.trend === 'growing'
                ? '—'
                : `not while ${r.trend}`
              : r.timeToTargetMs === 0
                ? 'past it now'
                : formatDuration(r.timeToTargetMs)}
        </Fact>
        <Fact label="Node size" testId="capacity-node-size">
          {formatBytes(r.nodeCapacityBytes)}
        </Fact>
        <Fact label="Samples" testId="capacity-samples">
          {r.samples}
        </Fact>
      </SimpleGrid>
      {unknown.length > 0 && (
        <Alert color="yellow" variant="light">
          Capacity unknown for {unknown.join(', ')}: left out of the figures (register a capacity, or wait for the agent to report it).
        </Alert>
      )}
    </Stack>
  );
}

const WINDOWS = [
  { value: '3600000', label: '1 h' },
  { value: '86400000', label: '24 h' },
  { value: '604800000', label: '7 days' },
];

function UsageSamples() {
  const [windowMs, setWindowMs] = useState('86400000');
  // Fixed when the window is chosen: a moving `since` would make a new query on every render.
  const [since, setSince] = useState(() => new Date(Date.now() - Number(windowMs)).toISOString());
  const samples = useCapacitySamples(since);
  return (
    <Stack gap={4}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" fw={500}>
          Usage over time
        </Text>
        <SegmentedControl
          size="xs"
          data={WINDOWS}
          value={windowMs}
          onChange={(v) => {
            setWindowMs(v);
            setSince(new Date(Date.now() - Number(v)).toISOString());
          }}
          aria-label="Usage window"
        />
      </Group>
      {samples.isPending ? (
        <Skeleton height={160} />
      ) : samples.isError ? (
        <ErrorState title="Could not load the usage samples" error={samples.error} />
      ) : samples.data.length === 0 ? (
        <Empty>No usage sampled in this window yet.</Empty>
      ) : (
        <Suspense fallback={<Skeleton height={160} />}>
          <UsageChart samples={samples.data} />
        </Suspense>
      )}
    </Stack>
  );
}

function History() {
  const history = useCapacityHistory(10);
  if (history.isPending) return <Loading label="Loading the recommendation history…" />;
  if (history.isError) return <ErrorState title="Could not load the recommendation history" error={history.error} />;
  if (history.data.length === 0) return <Empty>No recommendation recorded yet.</Empty>;
  return (
    <ScrollArea.Autosize mah={260} type="auto">
      <Table fz="xs" striped data-testid="capacity-history" aria-label="Recommendation history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Advice</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {history.data.map((h) => (
            <Table.Tr key={h.id} data-testid="capacity-history-row">
              <Table.Td style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }} title={formatTime(h.at)}>
                {formatAgo(h.at)}
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="wrap">
                  <Badge size="xs" color={ACTION_COLOR[h.action]} variant="light">
                    {headline(h)}
                  </Badge>
                  <Text span size="xs">
                    {formatFraction(h.utilization)} used · {CAPACITY_TREND_WORDS[h.trend]}
                  </Text>
                </Group>
                {typeof h.details.reason === 'string' && (
                  <Text size="xs" c="dimmed" mt={2}>
                    {h.details.reason}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea.Autosize>
  );
}

/** capacity.recommendation / samples / history: grow or shrink, by how much, how soon, and the advice so far. */
export function CapacityCard() {
  const rec = useCapacityRecommendation();
  const sample = useSampleCapacity();
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="capacity-title" data-testid="capacity-card">
      <Group justify="space-between" mb="xs" wrap="wrap" gap="xs">
        <Title order={3} fz="md" id="capacity-title">
          Capacity planner
        </Title>
        <Button size="xs" variant="subtle" onClick={() => sample.mutate()} loading={sample.isPending} disabled={sample.isPending}>
          Sample now
        </Button>
      </Group>
      <Stack gap="md">
        {rec.isPending ? (
          <Loading label="Computing the recommendation…" />
        ) : rec.isError ? (
          <ErrorState title="Could not compute the recommendation" error={rec.error} />
        ) : (
          <Recommendation r={rec.data} />
        )}
        <UsageSamples />
        <div>
          <Text size="sm" fw={500} mb={4}>
            Recommendation history
          </Text>
          <History />
        </div>
      </Stack>
    </Card>
  );
}
