import { Alert, Badge, Button, Card, Group, ScrollArea, SegmentedControl, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { Empty, ErrorState } from '../../../components/query-state.tsx';
import { formatBytes } from '../../../lib/format.ts';
import { formatFraction } from '../format.ts';
import { useConfiguredStrategy, useMigrationPlan, type NodeBalance, type WholePlan } from '../hooks.ts';
import type { StrategyName } from '../validation.ts';
import { EnqueueForm } from './enqueue-form.tsx';
import { Fact } from '../../../components/fact.tsx';

const STRATEGIES: { value: StrategyName; label: string; explain: string }[] = [
  { value: 'count', label: 'Count', explain: 'the same number of files on every node' },
  { value: 'bytes', label: 'Bytes', explain: 'the same number of bytes on every node' },
  { value: 'utilization', label: 'Utilization', explain: 'the same fill ratio of each node’s capacity (nodes of unknown capacity are left out)' },
  { value: 'weighted', label: 'Weighted', explain: 'files in proportion to each node’s weight' },
];

const ROLE_COLOR: Record<NodeBalance['role'], string> = { schedulable: 'gray', drained: 'orange', offline: 'red', excluded: 'yellow' };

/** The balance score in the plan's unit: files, bytes, or percentage points of capacity. */
export function formatScore(plan: Pick<WholePlan, 'unit'>, score: number): string {
  switch (plan.unit) {
    case 'files':
      return `${score.toFixed(2)} files`;
    case 'bytes':
      return formatBytes(Math.round(score));
    case 'percent':
      return `${score.toFixed(1)} pts`;
  }
}


function Change({ before, after, format = String }: { before: number; after: number; format?: (n: number) => string }) {
  if (before === after) return <>{format(before)}</>;
  return (
    <>
      {format(before)} →{' '}
      <Text span fw={700} c={after > before ? 'teal' : 'orange'} inherit>
        {format(after)}
      </Text>
    </>
  );
}

/** Utilization only helps where capacities are known and the strategy or the fill level makes it matter. */
function showUtilization(plan: WholePlan): boolean {
  if (!plan.nodes.some((n) => n.utilizationBefore !== null)) return false;
  return plan.strategy === 'utilization' || plan.nodes.some((n) => Math.max(n.utilizationBefore ?? 0, n.utilizationAfter ?? 0) >= 0.01);
}

function NodesTable({ plan }: { plan: WholePlan }) {
  const showUtil = showUtilization(plan);
  return (
    <ScrollArea type="auto">
      <Table withTableBorder captionSide="top" fz="sm" data-testid="plan-nodes" aria-label="Per-node figures before and after the plan">
        <Table.Caption>Per node, before → after the plan</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Node</Table.Th>
            <Table.Th>Files</Table.Th>
            <Table.Th>Bytes</Table.Th>
            {showUtil && <Table.Th>Used</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.nodes.map((n) => (
            <Table.Tr key={n.node} data-testid={`plan-node-${n.node}`}>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  {n.node}
                  {n.role !== 'schedulable' && (
                    <Badge size="xs" color={ROLE_COLOR[n.role]} variant="light">
                      {n.role}
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td data-testid="files" style={{ whiteSpace: 'nowrap' }}>
                <Change before={n.countBefore} after={n.countAfter} />
              </Table.Td>
              <Table.Td data-testid="bytes" style={{ whiteSpace: 'nowrap' }}>
                <Change before={n.bytesBefore} after={n.bytesAfter} format={formatBytes} />
              </Table.Td>
              {showUtil && (
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  {n.utilizationBefore === null ? '—' : <Change before={n.utilizationBefore} after={n.utilizationAfter ?? n.utilizationBefore} format={formatFraction} />}
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

const PAGE = 50;

function MovesTable({ plan }: { plan: WholePlan }) {
  const [shown, setShown] = useState(PAGE);
  if (plan.moves.length === 0) return <Empty>No move needed: every node is within the threshold of its share.</Empty>;
  const rest = plan.moves.length - shown;
  return (
    <Stack gap="xs">
      <ScrollArea.Autosize mah={420} type="auto">
        <Table striped fz="sm" stickyHeader data-testid="plan-moves" aria-label="Planned moves">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Move and reason</Table.Th>
              <Table.Th ta="right">Bytes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {plan.moves.slice(0, shown).map((m) => (
              <Table.Tr key={m.uuid} data-testid="plan-move">
                <Table.Td>
                  <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                    <Text span fw={600} inherit style={{ whiteSpace: 'nowrap' }}>
                      {m.from} → {m.to}
                    </Text>{' '}
                    {m.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {m.reason}
                  </Text>
                </Table.Td>
                <Table.Td ta="right" style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }}>
                  {formatBytes(m.sizeBytes)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
      {rest > 0 && (
        <Group>
          <Button size="xs" variant="subtle" onClick={() => setShown((s) => s + PAGE * 4)}>
            Show {Math.min(rest, PAGE * 4)} more of {rest}
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function PlanView({ plan, openTasks }: { plan: WholePlan; openTasks: number }) {
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
        <Fact label="Moves" testId="plan-move-count">
          {plan.moves.length.toLocaleString()}
        </Fact>
        <Fact label="Bytes to move" testId="plan-bytes">
          {formatBytes(plan.bytesToMove)}
        </Fact>
        <Fact label="Balance score" testId="plan-score">
          <Change before={plan.scoreBefore} after={plan.scoreAfter} format={(s) => formatScore(plan, s)} />
        </Fact>
        <Fact label="Within" testId="plan-tolerance">
          ± {formatScore(plan, plan.tolerance)}
        </Fact>
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        The score is how far the nodes sit from their shares (the standard deviation with equal shares): lower is better, 0 is perfect.
      </Text>
      {plan.blocked.length > 0 && (
        <Alert color="yellow" variant="light" title="Some imbalance stays" data-testid="plan-blocked">
          <Stack gap={2}>
            {plan.blocked.map((b) => (
              <Text size="sm" key={b}>
                {b}
              </Text>
            ))}
          </Stack>
        </Alert>
      )}
      <NodesTable plan={plan} />
      <MovesTable plan={plan} />
      <EnqueueForm plan={plan} openTasks={openTasks} />
    </Stack>
  );
}

/** migrations.plan: the whole plan for a strategy (a dry run), and the button that queues it. */
export function PlanCard({ openTasks }: { openTasks: number }) {
  const configured = useConfiguredStrategy();
  const [chosen, setChosen] = useState<StrategyName | null>(null);
  const strategy = chosen ?? configured ?? 'count';
  const plan = useMigrationPlan(strategy);
  const explain = STRATEGIES.find((s) => s.value === strategy)?.explain;
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="plan-title" data-testid="plan-card">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs">
            <Title order={3} fz="md" id="plan-title">
              Dry run
            </Title>
            {plan.data && (
              <Badge color={plan.data.moves.length === 0 ? 'teal' : 'orange'} variant="light" data-testid="plan-status">
                {plan.data.moves.length === 0 ? 'balanced' : plan.data.balanced ? 'moves balance it' : 'partly balanceable'}
              </Badge>
            )}
            {plan.isFetching && !plan.isPending && (
              <Text size="xs" c="dimmed" aria-live="polite">
                updating…
              </Text>
            )}
          </Group>
          <SegmentedControl
            size="xs"
            value={strategy}
            onChange={(v) => setChosen(v as StrategyName)}
            data={STRATEGIES.map((s) => ({ value: s.value, label: s.label }))}
            aria-label="Balancing strategy"
          />
        </Group>
        <Text size="sm" c="dimmed">
          Every move that balances the cluster with the <b>{strategy}</b> strategy: {explain}. Nothing moves until you queue it.
        </Text>
        {plan.isPending ? (
          <Stack gap="xs" aria-busy="true" aria-label="Planning">
            <Skeleton height={40} />
            <Skeleton height={120} />
          </Stack>
        ) : plan.isError ? (
          <ErrorState title="Could not plan" error={plan.error} />
        ) : (
          <PlanView plan={plan.data} openTasks={openTasks} />
        )}
      </Stack>
    </Card>
  );
}
