import { Card, Grid, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense } from 'react';

import { LoadCard } from '../../features/ensemble/components/load-card.tsx';
import { MembershipCard } from '../../features/ensemble/components/membership-card.tsx';
import { RollingRestartCard } from '../../features/ensemble/components/rolling-restart-card.tsx';
import { ScalingCard } from '../../features/ensemble/components/scaling-card.tsx';
import { useLoadLive, useMembershipLive, usePolicy } from '../../features/ensemble/hooks.ts';

// The charting library is the heaviest dependency: it loads with the charts, after the rest of the page.
const LoadCharts = lazy(() => import('../../features/ensemble/components/load-charts.tsx'));

function ChartsFallback() {
  return (
    <Card withBorder padding="md" aria-busy="true" aria-label="Loading the charts">
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="md">
        {[0, 1, 2].map((i) => (
          <Skeleton key={i} height={220} />
        ))}
      </SimpleGrid>
    </Card>
  );
}

/**
 * Ensemble: the ZooKeeper servers' load (scores, their formula, charts), the membership with guarded
 * add / remove, the rolling restart, and the scaling recommendation with its policy. Live from three streams
 * (ensemble.onLoad, onMembership, onRollingRestart).
 */
export default function EnsemblePage() {
  const load = useLoadLive();
  const membership = useMembershipLive();
  const policy = usePolicy();
  const thresholds = policy.data ? { up: policy.data.upThreshold, down: policy.data.downThreshold } : undefined;
  return (
    <Stack gap="md">
      <div>
        <Title order={2}>Ensemble</Title>
        <Text c="dimmed" size="sm">
          How loaded the ZooKeeper servers are, who votes, and changes that keep the quorum: add, remove, restart.
        </Text>
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, xl: 7 }}>
          <LoadCard view={load.view} error={load.error} thresholds={thresholds} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, xl: 5 }}>
          <MembershipCard data={membership.data} error={membership.error} />
        </Grid.Col>
      </Grid>
      <Suspense fallback={<ChartsFallback />}>
        <LoadCharts history={load.history} error={load.historyError} />
      </Suspense>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <RollingRestartCard />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <ScalingCard />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
