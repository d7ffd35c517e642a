import { Badge, Card, Group, ScrollArea, Table, Text, Title } from '@mantine/core';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatTime, formatValue } from '../../../lib/format.ts';
import { useTasks } from '../hooks.ts';

const STATUS_COLOR: Record<string, string> = { queued: 'gray', running: 'indigo', done: 'teal', failed: 'red' };

function str(v: unknown): string {
  return formatValue(v, '—');
}

/** workload.tasks: counts per status and the latest tasks; refetched when progress or operation events arrive. */
export function TasksTable() {
  const tasks = useTasks(20);
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="tasks-title">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={3} fz="md" id="tasks-title">
          Tasks
        </Title>
        {tasks.data && (
          <Group gap={6} data-testid="task-counts">
            {(['queued', 'running', 'done', 'failed'] as const).map((s) => (
              <Badge key={s} color={STATUS_COLOR[s]} variant="light">
                {s} {tasks.data.counts[s] ?? 0}
              </Badge>
            ))}
          </Group>
        )}
      </Group>
      {tasks.isPending ? (
        <Loading label="Loading tasks…" />
      ) : tasks.isError ? (
        <ErrorState title="Could not load the tasks" error={tasks.error} />
      ) : tasks.data.items.length === 0 ? (
        <Empty>No tasks yet. Creating files adds one.</Empty>
      ) : (
        <ScrollArea type="auto">
          <Table striped highlightOnHover miw={760} data-testid="tasks-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Node</Table.Th>
                <Table.Th>Files</Table.Th>
                <Table.Th>Size (KiB)</Table.Th>
                <Table.Th>Scheduler after</Table.Th>
                <Table.Th>Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tasks.data.items.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{t.id}</Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLOR[t.status]} variant="light">
                      {t.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{str(t.payload.kind ?? t.payload.action)}</Table.Td>
                  <Table.Td>{str(t.payload.node ?? 'auto')}</Table.Td>
                  <Table.Td>{str(t.payload.count)}</Table.Td>
                  <Table.Td>{str(t.payload.sizeKb)}</Table.Td>
                  <Table.Td>{t.payload.triggerScheduler ? 'yes' : 'no'}</Table.Td>
                  <Table.Td>
                    <Text size="sm" span>
                      {formatTime(t.updatedAt)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
    </Card>
  );
}
