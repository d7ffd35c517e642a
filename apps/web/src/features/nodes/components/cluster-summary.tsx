import { Badge, Card, Group, SimpleGrid, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { formatNumber } from '../../../lib/format.ts';
import { formatGap, formatMoves, PLAN_REASON_LABEL } from '../../scheduler/format.ts';
import type { SchedulerPlan } from '../../scheduler/hooks.ts';
import type { NodesSnapshot } from '../hooks.ts';

function Item({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="md" fw={600} component="div" data-testid={testId}>
        {children}
      </Text>
    </div>
  );
}

/** Quorum, leader, total files, and the spread the scheduler sees against its threshold (in its strategy's unit). */
export function ClusterSummaryCard({ snapshot, plan }: { snapshot: NodesSnapshot; plan: SchedulerPlan | undefined }) {
  const { summary, nodes } = snapshot;
  const totalFiles = plan?.totalFiles ?? nodes.reduce((sum, n) => sum + n.fileCount, 0);
  return (
    <Card withBorder padding="md" data-testid="cluster-summary" aria-label="Cluster summary" component="section">
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="md">
        <Item label="Quorum" testId="cluster-quorum">
          <Group gap={6} wrap="wrap">
            {summary.quorum ? (
              <Badge color="teal" size="lg" variant="light">
                healthy
              </Badge>
            ) : (
              <Badge color="red" size="lg" variant="filled">
                lost
              </Badge>
            )}
            <Text span size="sm" c="dimmed">
              {summary.upCount}/{summary.size} up
            </Text>
          </Group>
        </Item>
        <Item label="Leader" testId="cluster-leader">
          {summary.leader ?? 'none'}
        </Item>
        <Item label="Total files" testId="cluster-total-files">
          {formatNumber(totalFiles)}
        </Item>
        <Item label="Spread / threshold" testId="cluster-delta">
          {plan ? (
            <Group gap={6} wrap="wrap">
              <span>
                {formatGap(plan.unit, plan.delta)} / {formatGap(plan.unit, plan.thresholdInUnit)}
              </span>
              <Badge
                size="sm"
                variant="light"
                color={plan.shouldMigrate ? 'orange' : plan.balanced ? 'gray' : 'yellow'}
                data-testid="cluster-verdict"
                data-should-migrate={plan.shouldMigrate}
              >
                {plan.shouldMigrate ? `will move ${formatMoves(plan.moves)}` : plan.balanced ? 'balanced' : PLAN_REASON_LABEL[plan.reason]}
              </Badge>
            </Group>
          ) : (
            '—'
          )}
        </Item>
      </SimpleGrid>
      {plan && (
        <Text size="sm" c="dimmed" mt="sm" data-testid="cluster-plan-message">
          Scheduler: {plan.message}
        </Text>
      )}
    </Card>
  );
}
