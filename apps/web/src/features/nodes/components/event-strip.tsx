import { Badge, Card, Group, Stack, Text, Title } from '@mantine/core';

import { formatClock } from '../../../lib/format.ts';
import type { ClusterEvent } from '../hooks.ts';

const KIND_COLOR: Record<string, string> = {
  leader_changed: 'indigo',
  node_down: 'red',
  node_up: 'teal',
  quorum_lost: 'red',
  quorum_restored: 'teal',
  store_offline: 'red',
  store_suspect: 'yellow',
  store_online: 'teal',
};

/** The last cluster events seen while this page was open: leader changes, nodes down or up, quorum. */
export function EventStrip({ events }: { events: ClusterEvent[] }) {
  return (
    <Card withBorder padding="md" component="section" aria-label="Cluster events">
      <Title order={3} fz="md" mb="xs">
        Cluster events
      </Title>
      {events.length === 0 ? (
        <Text size="sm" c="dimmed" data-testid="cluster-events-empty">
          No cluster events since this page opened. Leader changes, nodes going down or up, and quorum changes show here.
        </Text>
      ) : (
        <Stack gap={4} data-testid="cluster-events" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {events.map((e) => (
            <Group key={e.id} gap="xs" wrap="nowrap" component="li" data-testid="cluster-event" data-kind={e.kind}>
              <Text size="xs" c="dimmed" ff="monospace" style={{ flexShrink: 0 }}>
                {formatClock(Date.parse(e.at))}
              </Text>
              <Badge size="sm" variant="light" color={KIND_COLOR[e.kind] ?? 'gray'} style={{ flexShrink: 0 }}>
                {e.kind.replace('_', ' ')}
              </Badge>
              <Text size="sm">{e.message}</Text>
            </Group>
          ))}
        </Stack>
      )}
    </Card>
  );
}
