import { Card, Group, ScrollArea, SegmentedControl, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatBytes, formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatRate } from '../format.ts';
import { useMigrationHistory, type FinishedStatus } from '../hooks.ts';

const STATUSES: { value: FinishedStatus; label: string }[] = [
  { value: 'completed', label: 'Completed' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
];

function took(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt || !finishedAt) return '—';
  return formatDuration(Date.parse(finishedAt) - Date.parse(startedAt));
}

/** migrations.list: the latest finished tasks of one status, with the error of the failed ones. */
export function HistoryCard() {
  const [status, setStatus] = useState<FinishedStatus>('completed');
  const history = useMigrationHistory(status);
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="history-title" data-testid="history-card">
      <Group justify="space-between" mb="xs" wrap="wrap" gap="xs">
        <Title order={3} fz="md" id="history-title">
          Finished tasks
        </Title>
        <SegmentedControl
          size="xs"
          value={status}
          onChange={(v) => setStatus(v)}
          data={STATUSES}
          aria-label="Show finished tasks of status"
        />
      </Group>
      {history.isPending ? (
        <Loading label="Loading finished tasks…" />
      ) : history.isError ? (
        <ErrorState title="Could not load the finished tasks" error={history.error} />
      ) : history.data.length === 0 ? (
        <Empty>No {status} tasks yet.</Empty>
      ) : (
        <ScrollArea.Autosize mah={360} type="auto">
          <Table fz="sm" striped stickyHeader data-testid="history-table" aria-label={`${status} tasks`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Task</Table.Th>
                <Table.Th ta="right">Finished</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {history.data.map((m) => (
                <Table.Tr key={m.id} data-testid="history-row" data-status={m.status}>
                  <Table.Td>
                    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                      {m.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      #{m.id} · {m.source} → {m.target} · {formatBytes(m.bytes)}
                      {m.status === 'completed' && ` · took ${took(m.startedAt, m.finishedAt)} at ${formatRate(m.throughput)}`}
                    </Text>
                    {m.status === 'failed' && (
                      <Text size="xs" c="red" data-testid="history-error">
                        {m.error ?? 'unknown error'}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ta="right" style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }}>
                    <Text size="xs" title={formatTime(m.finishedAt)}>
                      {formatAgo(m.finishedAt)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea.Autosize>
      )}
    </Card>
  );
}
