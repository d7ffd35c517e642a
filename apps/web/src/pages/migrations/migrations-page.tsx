import { Grid, Stack, Text, Title } from '@mantine/core';

import { CapacityCard } from '../../features/capacity/components/capacity-card.tsx';
import { LifecyclePanel } from '../../features/capacity/components/lifecycle-panel.tsx';
import { useCapacityRefresh, useLifecycleLive } from '../../features/capacity/hooks.ts';
import { CapsCard } from '../../features/migrations/components/caps-card.tsx';
import { HistoryCard } from '../../features/migrations/components/history-card.tsx';
import { PlanCard } from '../../features/migrations/components/plan-card.tsx';
import { QueueCard } from '../../features/migrations/components/queue-card.tsx';
import { useMigrationsLive } from '../../features/migrations/hooks.ts';

/**
 * Migrations: the whole-plan dry run, the queue under its caps, and the caps themselves; then the storage
 * nodes' lifecycle (decommission, scale-up) and the capacity planner. All live, from three streams.
 */
export default function MigrationsPage() {
  const refreshCapacity = useCapacityRefresh();
  const lifecycle = useLifecycleLive(refreshCapacity);
  // Files moved or changed (a re-plan): node usage and the capacity figures follow.
  const live = useMigrationsLive({
    onFilesChanged: () => {
      refreshCapacity();
      lifecycle.refresh();
    },
  });
  const open = live.progress ? live.progress.tasks.length : 0;
  return (
    <Stack gap="md">
      <div>
        <Title order={2}>Migrations</Title>
        <Text c="dimmed" size="sm">
          Plan the whole rebalance, queue it, and watch it move within the limits you set.
        </Text>
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack gap="md">
            <QueueCard live={live} />
            <PlanCard openTasks={open} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack gap="md">
            <CapsCard caps={live.progress?.caps} policy={live.progress?.policy} />
            <HistoryCard />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <LifecyclePanel live={lifecycle} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <CapacityCard />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
