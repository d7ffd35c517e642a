import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  ScrollArea,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useState } from 'react';

import { ZMigrationPlanInputSchema } from '@zkha/core/schemas';

import { Fact } from '../../../components/fact.tsx';
import { Empty, ErrorState } from '../../../components/query-state.tsx';
import { formatBytes } from '../../../lib/format.ts';
import { formatGap, formatValue, UNIT_LABEL } from '../../scheduler/format.ts';
import { formatFraction } from '../format.ts';
import { useConfiguredStrategy, useMigrationPlan, type NodeBalance, type WholePlan } from '../hooks.ts';
import type { StrategyName } from '../validation.ts';
import { EnqueueForm } from './enqueue-form.tsx';

/** Words per strategy: keyed by core's StrategyName, so a new strategy fails the build until it has its words. */
const STRATEGY_WORDS: Record<StrategyName, { label: string; explain: string }> = {
  count: { label: 'Count', explain: 'the same number of files on every node' },
  bytes: { label: 'Bytes', explain: 'the same number of bytes on every node (threshold in average-sized files)' },
  utilization: { label: 'Utilization', explain: 'the same fill ratio of each node’s capacity (nodes of unknown capacity are left out)' },
  weighted: { label: 'Weighted', explain: 'files in proportion to each node’s weight' },
};

/** The strategies in core's order, from the schema the API validates with. */
const STRATEGIES = ZMigrationPlanInputSchema.shape.strategy.unwrap().options.map((value) => ({ value, ...STRATEGY_WORDS[value] }));

const ROLE_COLOR: Record<NodeBalance['role'], string> = {
  schedulable: 'gray',
  drained: 'orange',
  weight_zero: 'orange',
  offline: 'red',
  no_capacity: 'yellow',
};
const HOLD_LABEL: Record<NonNullable<NodeBalance['hold']>['code'], string> = {
  all_in_flight: 'all moving',
  over_watermark: 'over watermark',
  unreachable: 'unreachable',
  nowhere_to_go: 'nowhere to go',
};
const ROLE_LABEL: Record<NodeBalance['role'], string> = {
  schedulable: '',
  drained: 'drained',
  weight_zero: 'weight 0',
  offline: 'offline',
  no_capacity: 'capacity unknown',
};

function Change({ before, after, format = String }: { before: number; after: number; format?: (n: number) => string }) {
  if (before === after || format(before) === format(after)) return <>{format(before)}</>;
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
            <Table.Th>Value ({UNIT_LABEL[plan.unit]})</Table.Th>
            <Table.Th>Files</Table.Th>
            <Table.Th>Bytes</Table.Th>
            {showUtil && <Table.Th>Used</Table.Th>}
            <Table.Th>Moves</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.nodes.map((n) => (
            <Table.Tr key={n.node} data-testid={`plan-node-${n.node}`} data-role={n.role}>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  {n.node}
                  {n.role !== 'schedulable' && (
                    <Badge size="xs" color={ROLE_COLOR[n.role]} variant="light">
                      {ROLE_LABEL[n.role]}
                    </Badge>
                  )}
                  {/* The words are in "Some imbalance stays" above; the badge says which node holds it back. */}
                  {n.hold && (
                    <Badge size="xs" color="yellow" variant="outline" data-testid="hold" data-code={n.hold.code} title={n.hold.message}>
                      {HOLD_LABEL[n.hold.code]}
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td data-testid="value" style={{ whiteSpace: 'nowrap' }}>
                {n.valueBefore === null ? (
                  '—'
                ) : (
                  <Change before={n.valueBefore} after={n.valueAfter ?? n.valueBefore} format={(v) => formatValue(plan.unit, v)} />
                )}
              </Table.Td>
              <Table.Td data-testid="files" style={{ whiteSpace: 'nowrap' }}>
                <Change before={n.countBefore} after={n.countAfter} />
              </Table.Td>
              <Table.Td data-testid="bytes" style={{ whiteSpace: 'nowrap' }}>
                <Change before={n.bytesBefore} after={n.bytesAfter} format={formatBytes} />
              </Table.Td>
              {showUtil && (
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  {n.utilizationBefore === null ? (
                    '—'
                  ) : (
                    <Change before={n.utilizationBefore} after={n.utilizationAfter ?? n.utilizationBefore} format={formatFraction} />
                  )}
                </Table.Td>
              )}
              <Table.Td data-testid="moves" style={{ whiteSpace: 'nowrap' }}>
                {n.movesOut === 0 && n.movesIn === 0
                  ? '—'
                  : [n.movesOut > 0 && `${n.movesOut} out`, n.movesIn > 0 && `${n.movesIn} in`].filter(Boolean).join(' · ')}
                {n.inFlight > 0 && (
                  <Text size="xs" c="dimmed">
                    {n.inFlight} already moving
                  </Text>
                )}
              </Table.Td>
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
  if (plan.moves.length === 0) {
    return (
      <Empty>
        {plan.balancedBefore ? 'No move needed: the spread is below the threshold.' : 'No move narrows the spread: see why above.'}
      </Empty>
    );
  }
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
        <Fact label="Spread" testId="plan-spread">
          <Change before={plan.spreadBefore} after={plan.spreadAfter} format={(v) => formatGap(plan.unit, v)} />
        </Fact>
        <Fact label="Threshold" testId="plan-threshold">
          below {formatGap(plan.unit, plan.thresholdInUnit)}
        </Fact>
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        Spread = highest − lowest value ({UNIT_LABEL[plan.unit]}) over the nodes that may hold files. Balanced when it is below the
        threshold and drained nodes are empty: the same rule the scheduler applies.
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
  const explain = STRATEGY_WORDS[strategy].explain;
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="plan-title" data-testid="plan-card">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs">
            <Title order={3} fz="md" id="plan-title">
              Dry run
            </Title>
            {plan.data && (
              <Badge
                color={plan.data.moves.length === 0 ? (plan.data.balancedBefore ? 'teal' : 'yellow') : 'orange'}
                variant="light"
                data-testid="plan-status"
                data-balanced={plan.data.balancedBefore}
              >
                {plan.data.moves.length === 0
                  ? plan.data.balancedBefore
                    ? 'balanced'
                    : 'not balanceable'
                  : plan.data.balanced
                    ? 'moves balance it'
                    : 'partly balanceable'}
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
            onChange={(v) => setChosen(v)}
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
