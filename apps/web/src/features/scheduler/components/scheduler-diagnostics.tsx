import { Badge, Card, Group, ScrollArea, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';

import { Fact } from '../../../components/fact.tsx';
import { formatBytes, formatTime } from '../../../lib/format.ts';
import { formatGap, formatMoves, formatValue, NODE_REASON_LABEL, PLAN_REASON_LABEL, ROLE_COLOR, UNIT_LABEL } from '../format.ts';
import type { SchedulerPlan } from '../hooks.ts';

type NodeExplain = SchedulerPlan['nodes'][number];

/** The plan's verdict: moves to make, balanced, or stuck (not balanced, yet no move helps). */
function VerdictBadge({ plan }: { plan: SchedulerPlan }) {
  const [color, text] = plan.shouldMigrate
    ? ['orange', `will move ${formatMoves(plan.moves)}`]
    : plan.balanced
      ? ['teal', 'balanced']
      : ['yellow', 'no move possible'];
  return (
    <Badge color={color} variant="light" data-testid="diag-verdict" data-should-migrate={plan.shouldMigrate}>
      {text}
    </Badge>
  );
}

function ExplainRow({ plan, n }: { plan: SchedulerPlan; n: NodeExplain }) {
  const st = plan.nodeStates[n.node];
  const code = NODE_REASON_LABEL[n.code];
  return (
    <Table.Tr data-testid={`explain-row-${n.node}`} data-role={n.role} data-code={n.code}>
      <Table.Td style={{ verticalAlign: 'top' }}>
        <Text size="sm" fw={600}>
          {n.node}
        </Text>
        {st?.drained && (
          <Text size="xs" c="orange" data-testid="drained">
            drained{st.reason ? `: ${st.reason}` : ''}
          </Text>
        )}
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }}>
        <span data-testid="count">{n.files}</span>
        {n.filesAfter !== n.files && (
          <Text span size="sm" c="dimmed" data-testid="count-after">
            {' '}
            → {n.filesAfter}
          </Text>
        )}
      </Table.Td>
      <Table.Td data-testid="value" style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }}>
        {formatValue(plan.unit, n.value)}
      </Table.Td>
      <Table.Td style={{ verticalAlign: 'top' }}>
        {/* max-content: a badge may not be squeezed into an ellipsis by the long reason beside it. */}
        <Badge
          size="sm"
          color={ROLE_COLOR[n.role]}
          variant={n.role === 'neither' ? 'outline' : 'light'}
          data-testid="role"
          miw="max-content"
        >
          {n.role}
        </Badge>
        {(n.movesOut > 0 || n.movesIn > 0) && (
          <Text size="xs" c="dimmed" data-testid="moves">
            {n.movesOut > 0 && `${n.movesOut} out`}
            {n.movesOut > 0 && n.movesIn > 0 && ' · '}
            {n.movesIn > 0 && `${n.movesIn} in`}
          </Text>
        )}
      </Table.Td>
      <Table.Td style={{ verticalAlign: 'top' }}>
        <Badge size="sm" color={code.color} variant="dot" data-testid="code" title={n.code} miw="max-content">
          {code.label}
        </Badge>
        <Text size="xs" c="dimmed" data-testid="reason" mt={2}>
          {n.reason}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}

/** Per node: its value, its role in this plan and why (allocation-explain style). */
function ExplainTable({ plan }: { plan: SchedulerPlan }) {
  return (
    <ScrollArea type="auto">
      <Table withTableBorder fz="sm" captionSide="top" data-testid="diag-explain" aria-label="Each node's role in the plan, and why">
        <Table.Caption>Each node in this plan, and why</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Node</Table.Th>
            <Table.Th>Files</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Reason</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.nodes.map((n) => (
            <ExplainRow key={n.node} plan={plan} n={n} />
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

/** The scheduler's current decision in plain words (scheduler.onPlan): the whole plan, and every node's part in it. */
export function SchedulerDiagnostics({ plan, failed }: { plan: SchedulerPlan | undefined; failed?: string | null }) {
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="diag-title" data-testid="scheduler-diagnostics">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={3} fz="md" id="diag-title">
          Scheduler diagnostics
        </Title>
        {plan && (
          <Group gap={6}>
            <Badge color={plan.shouldMigrate ? 'orange' : 'gray'} variant="outline" data-testid="diag-reason" data-reason={plan.reason}>
              {PLAN_REASON_LABEL[plan.reason]}
            </Badge>
            <VerdictBadge plan={plan} />
          </Group>
        )}
      </Group>
      {!plan ? (
        failed ? (
          <Text size="sm" c="red" role="alert">
            {failed}
          </Text>
        ) : (
          <Stack gap="xs" aria-busy="true" aria-label="Loading the plan">
            <Skeleton height={16} />
            <Skeleton height={60} />
          </Stack>
        )
      ) : (
        <Stack gap="sm">
          <Text size="sm" fw={600} data-testid="diag-message">
            {plan.message}
          </Text>
          <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
            <Fact weight={500} label="Spread / threshold" testId="diag-delta">
              {formatGap(plan.unit, plan.delta)} / {formatGap(plan.unit, plan.thresholdInUnit)}
            </Fact>
            <Fact weight={500} label="Plan" testId="diag-plan">
              {plan.moves === 0 ? 'no moves' : `${formatMoves(plan.moves)}, ${formatBytes(plan.bytesToMove)}`}
            </Fact>
            <Fact weight={500} label="Spread after" testId="diag-spread-after">
              {formatGap(plan.unit, plan.spreadAfter)}
              {plan.moves > 0 && (plan.balancedAfter ? ' (balanced)' : ' (still over)')}
            </Fact>
            <Fact weight={500} label="Strategy" testId="diag-strategy">
              {plan.strategy} ({UNIT_LABEL[plan.unit]})
            </Fact>
            <Fact weight={500} label="First move" testId="diag-route">
              {plan.candidate ? `${plan.candidate.name}: ${plan.sourceNode} → ${plan.targetNode}` : 'none'}
            </Fact>
            <Fact weight={500} label="Total files" testId="diag-total">
              {plan.totalFiles}
            </Fact>
            <Fact weight={500} label="Drained nodes" testId="diag-drained">
              {plan.drainedNodes.length ? plan.drainedNodes.join(', ') : 'none'}
            </Fact>
            <Fact weight={500} label="Offline nodes" testId="diag-offline">
              {plan.offlineNodes.length ? plan.offlineNodes.join(', ') : 'none'}
            </Fact>
          </SimpleGrid>
          <ExplainTable plan={plan} />
          <Text size="xs" c="dimmed">
            Spread = highest − lowest value over the nodes that may hold files; balanced when it is below the threshold and drained nodes
            are empty. Planned {formatTime(plan.generatedAt)}.
          </Text>
        </Stack>
      )}
    </Card>
  );
}
