import { Badge, Card, Group, Stack, Table, Text } from '@mantine/core';

import type { ControlStatus } from '../hooks.ts';

function since(iso: string): string {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

/**
 * The control plane's instances: which one leads (runs the scheduler, the migration queue and the other loops),
 * which one this console talks to, and the last takeover with its timings. Hidden for a lone (standalone) instance.
 */
export function ControlCard({ status }: { status: ControlStatus }) {
  if (status.role === 'standalone') return null;
  const last = status.takeovers[0];
  return (
    <Card withBorder padding="md" component="section" aria-label="Control plane" data-testid="control-card">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600}>Control plane</Text>
          <Text size="sm" c="dimmed" data-testid="control-summary">
            {status.instances.length} instance{status.instances.length === 1 ? '' : 's'}; leader{' '}
            {status.leader ? status.leader.id : 'none (election under way)'}
            {status.leader?.since ? ` since ${since(status.leader.since)}` : ''}
          </Text>
        </Group>
        <Table withRowBorders={false} verticalSpacing={2}>
          <Table.Tbody>
            {status.instances.map((i) => (
              <Table.Tr key={i.id} data-testid={`instance-${i.id}`}>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {i.id}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge color={i.leader ? 'teal' : 'gray'} variant="light">
                    {i.leader ? 'leader' : 'follower'}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" c="dimmed">
                    {i.url ?? ''}
                    {i.self ? ' (this console)' : ''}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {status.fileTree === 'incomplete' && (
          <Text size="sm" c="orange" data-testid="file-tree-incomplete">
            The file tree in ZooKeeper is not marked complete (a first publish was cut short, or it is from before the mark): no instance
            removes files it lacks; the leader publishes the rest.
          </Text>
        )}
        {last && (
          <Text size="sm" data-testid="last-takeover">
            Last takeover {since(last.at)}: {last.from ?? '?'} → {last.to}; detection {last.detectionMs ?? '?'} ms, election{' '}
            {last.electionMs} ms, recovery {last.recoveryMs} ms
          </Text>
        )}
      </Stack>
    </Card>
  );
}
