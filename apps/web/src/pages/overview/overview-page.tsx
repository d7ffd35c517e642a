import { Alert, Card, SimpleGrid, Skeleton, Stack, Title } from '@mantine/core';

import { useConnectionLost } from '../../features/connection/hooks.ts';
import { ControlCard } from '../../features/control/components/control-card.tsx';
import { useControlStatus } from '../../features/control/hooks.ts';
import { ClusterSummaryCard } from '../../features/nodes/components/cluster-summary.tsx';
import { EventStrip } from '../../features/nodes/components/event-strip.tsx';
import { NodeCard } from '../../features/nodes/components/node-card.tsx';
import { useClusterEvents, useNodesLive } from '../../features/nodes/hooks.ts';
import { usePlanLive } from '../../features/scheduler/hooks.ts';

/** Overview: one card per node, the cluster summary and the last cluster events, all live. */
export default function OverviewPage() {
  const live = useNodesLive();
  const { plan } = usePlanLive();
  const events = useClusterEvents(10);
  const stale = useConnectionLost();
  const control = useControlStatus();

  return (
    <Stack gap="md">
      <Title order={2}>Overview</Title>
      {live.status === 'error' && !live.data && (
        <Alert color="red" title="Could not load the nodes" role="alert">
          {live.error?.message ?? 'The node stream failed.'}
        </Alert>
      )}
      {live.data ? (
        <Stack gap="md" style={{ opacity: stale ? 0.6 : 1, transition: 'opacity 200ms' }} data-stale={stale}>
          <ClusterSummaryCard snapshot={live.data} plan={plan} />
          {control.data && <ControlCard status={control.data} />}
          {live.data.nodes.length === 0 ? (
            <Alert color="gray" title="No nodes">
              The server has no ZooKeeper nodes configured.
            </Alert>
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md" data-testid="node-cards">
              {live.data.nodes.map((n) => (
                <NodeCard key={n.node} node={n} />
              ))}
            </SimpleGrid>
          )}
        </Stack>
      ) : (
        live.status !== 'error' && (
          <Stack gap="md" aria-busy="true" aria-label="Loading the nodes">
            <Skeleton height={90} />
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
              {[0, 1, 2].map((i) => (
                <Card key={i} withBorder>
                  <Skeleton height={180} />
                </Card>
              ))}
            </SimpleGrid>
          </Stack>
        )
      )}
      <EventStrip events={events} />
    </Stack>
  );
}
