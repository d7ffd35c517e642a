import { Badge, Card, Group, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';

import { formatBytes, formatTime } from '../../../lib/format.ts';
import type { SchedulerPlan } from '../hooks.ts';
import { Fact } from '../../../components/fact.tsx';

const REASON_LABEL: Record<string, string> = {
  ok: 'will move a file',
  draining: 'emptying a drained node',
  below_threshold: 'below threshold',
  no_files: 'no files',
  no_candidate: 'no candidate',
  no_target: 'no target',
  single_target: 'single target',
  source_offline: 'source offline',
  target_offline: 'target offline',
};


/** The scheduler's current decision in plain words (scheduler.onPlan). */
export function SchedulerDiagnostics({ plan, failed }: { plan: SchedulerPlan | undefined; failed?: string | null }) {
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="diag-title" data-testid="scheduler-diagnostics">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={3} fz="md" id="diag-title">
          Scheduler diagnostics
        </Title>
        {plan && (
          <Badge color={plan.shouldMigrate ? 'orange' : 'gray'} variant="light" data-testid="diag-reason" data-reason={plan.reason}>
            {REASON_LABEL[plan.reason] ?? plan.reason}
          </Badge>
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
            <Fact weight={500} label="Source → target" testId="diag-route">
              {plan.sourceNode ?? '—'} → {plan.targetNode ?? '—'}
            </Fact>
            <Fact weight={500} label="Delta / threshold" testId="diag-delta">
              {plan.delta} / {plan.threshold}
            </Fact>
            <Fact weight={500} label="Total files" testId="diag-total">
              {plan.totalFiles}
            </Fact>
            <Fact weight={500} label="Candidate file" testId="diag-candidate">
              {plan.candidate ? `${plan.candidate.name} (${formatBytes(plan.candidate.sizeBytes)})` : 'none'}
            </Fact>
            <Fact weight={500} label="Drained nodes" testId="diag-drained">
              {plan.drainedNodes.length ? plan.drainedNodes.join(', ') : 'none'}
            </Fact>
            <Fact weight={500} label="Offline nodes" testId="diag-offline">
              {plan.offlineNodes.length ? plan.offlineNodes.join(', ') : 'none'}
            </Fact>
          </SimpleGrid>
          <Table withTableBorder withColumnBorders fz="sm" data-testid="diag-counts" aria-label="Files per node">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Node</Table.Th>
                <Table.Th>Files</Table.Th>
                <Table.Th>Role in this plan</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {Object.entries(plan.counts).map(([node, count]) => {
                const st = plan.nodeStates[node];
                return (
                  <Table.Tr key={node} data-testid={`diag-count-${node}`}>
                    <Table.Td>{node}</Table.Td>
                    <Table.Td data-testid="count">{count}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {node === plan.sourceNode && <Badge size="xs">source</Badge>}
                        {node === plan.targetNode && (
                          <Badge size="xs" color="teal">
                            target
                          </Badge>
                        )}
                        {st?.drained && (
                          <Badge size="xs" color="orange">
                            drained{st.reason ? `: ${st.reason}` : ''}
                          </Badge>
                        )}
                        {st?.offline && (
                          <Badge size="xs" color="red">
                            offline
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          <Text size="xs" c="dimmed">
            Planned {formatTime(plan.generatedAt)}
          </Text>
        </Stack>
      )}
    </Card>
  );
}
