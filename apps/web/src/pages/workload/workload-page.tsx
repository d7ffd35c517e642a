import { Card, Grid, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense } from 'react';

import { RunSchedulerCard } from '../../features/scheduler/components/run-scheduler-card.tsx';
import { SchedulerConfigCard } from '../../features/scheduler/components/scheduler-config-form.tsx';
import { SchedulerDiagnostics } from '../../features/scheduler/components/scheduler-diagnostics.tsx';
import { GeneratorCard } from '../../features/workload/components/generator-card.tsx';
import { ProgressPanel } from '../../features/workload/components/progress-panel.tsx';
import { StressForm } from '../../features/workload/components/stress-form.tsx';
import { TasksTable } from '../../features/workload/components/tasks-table.tsx';
import { useProgressLive, useWorkloadStreams } from '../../features/workload/hooks.ts';

// The charting library is the heaviest dependency: it loads with the charts, after the rest of the page.
const LiveCharts = lazy(() => import('../../features/workload/components/live-charts.tsx'));

function ChartsFallback() {
  return (
    <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md" aria-busy="true" aria-label="Loading the charts">
      {[0, 1, 2].map((i) => (
        <Card withBorder key={i}>
          <Skeleton height={220} />
        </Card>
      ))}
    </SimpleGrid>
  );
}

/** Workload: the scheduling demo tool, the scheduler's reasoning and settings, live charts and tasks. */
export default function WorkloadPage() {
  const { plan, error } = useWorkloadStreams();
  const jobs = useProgressLive();
  return (
    <Stack gap="md">
      <div>
        <Title order={2}>Workload</Title>
        <Text c="dimmed" size="sm">
          Create an imbalance, run the scheduler, and follow what it decides and why.
        </Text>
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <StressForm />
            <RunSchedulerCard plan={plan} />
            <SchedulerConfigCard />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="md">
            <SchedulerDiagnostics plan={plan} failed={error ? error.message : null} />
            <GeneratorCard />
            <ProgressPanel jobs={jobs} />
          </Stack>
        </Grid.Col>
      </Grid>
      <Suspense fallback={<ChartsFallback />}>
        <LiveCharts />
      </Suspense>
      <TasksTable />
    </Stack>
  );
}
