import { Alert, Button, Card, Group, ScrollArea, Stack, Switch, Table, Tabs, Text, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';

import { Empty, ErrorState, Loading } from '../../components/query-state.tsx';
import { LogSearchPanel } from '../../features/logs/components/log-search-panel.tsx';
import { OperationFilters } from '../../features/logs/components/operation-filters.tsx';
import { OperationRow, OperationsTableHead } from '../../features/logs/components/operation-row.tsx';
import {
  matchesFilters,
  useOperations,
  useOperationsLive,
  type OperationFilters as Filters,
  type OperationRecord,
} from '../../features/logs/hooks.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** Logs: the operations audit trail and the server's and ZooKeeper nodes' own logs, each with a live tail. */
export default function LogsPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'server' ? 'server' : 'operations';
  return (
    <Stack gap="md">
      <Title order={2}>Logs</Title>
      <Tabs value={tab} onChange={(v) => setParams(v === 'server' ? { tab: 'server' } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="operations">Operations audit</Tabs.Tab>
          <Tabs.Tab value="server">Server &amp; ZooKeeper logs</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="operations">
          <OperationsAudit />
        </Tabs.Panel>
        <Tabs.Panel value="server">
          <LogSearchPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** The operations audit trail, filtered and paged, with a live tail. */
function OperationsAudit() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [filters, setFilters] = useState<Filters>({});
  const [tail, setTail] = useState(false);
  const [live, setLive] = useState<OperationRecord[]>([]);
  const ops = useOperations(filters);

  const onFilters = useCallback((f: Filters) => {
    setFilters((prev) => (JSON.stringify(prev) === JSON.stringify(f) ? prev : f));
    setLive([]);
  }, []);

  const tailSub = useOperationsLive((op) => {
    if (matchesFilters(op, filters)) setLive((prev) => [op, ...prev].slice(0, 500));
  }, tail);

  const rows = useMemo(() => {
    const fromPages = ops.data?.pages.flatMap((p) => p.items) ?? [];
    const known = new Set(fromPages.map((o) => o.id));
    const fresh = live.filter((o) => !known.has(o.id));
    return { all: [...fresh, ...fromPages].sort((a, b) => b.id - a.id), fresh: new Set(fresh.map((o) => o.id)) };
  }, [ops.data, live]);

  const total = (ops.data?.pages[0]?.total ?? 0) + rows.fresh.size;
  const filtered = Object.keys(filters).length > 0;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Text c="dimmed" size="sm">
          Every operation zkha performed or saw, newest first.
        </Text>
        <Switch
          label="Live tail"
          description={tail ? (tailSub.status === 'pending' ? 'new operations appear at the top' : 'connecting…') : 'off'}
          checked={tail}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setTail(on);
            // Catch up on what happened while the tail was off, then follow the stream.
            if (on) void qc.invalidateQueries({ queryKey: trpc.logs.operations.pathKey() });
          }}
          data-testid="live-tail"
        />
      </Group>
      <Card withBorder padding="md">
        <OperationFilters onChange={onFilters} />
      </Card>
      <Card withBorder padding={0}>
        {ops.isPending ? (
          <Loading label="Loading operations…" />
        ) : ops.isError ? (
          <ErrorState title="Could not load the operations" error={ops.error} />
        ) : rows.all.length === 0 ? (
          <Empty>{filtered ? 'No operations match these filters.' : 'No operations yet.'}</Empty>
        ) : (
          <ScrollArea type="auto">
            <Table highlightOnHover miw={720} data-testid="operations-table" aria-label="Operations">
              <OperationsTableHead />
              <Table.Tbody>
                {rows.all.map((op) => (
                  <OperationRow key={op.id} op={op} fresh={rows.fresh.has(op.id)} />
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        )}
      </Card>
      {ops.data && rows.all.length > 0 && (
        <Group justify="space-between" wrap="wrap">
          <Text size="sm" c="dimmed" data-testid="operations-count">
            Showing {rows.all.length} of {total}
          </Text>
          {ops.hasNextPage ? (
            <Button variant="default" onClick={() => void ops.fetchNextPage()} loading={ops.isFetchingNextPage}>
              Load older
            </Button>
          ) : (
            <Text size="sm" c="dimmed">
              No older operations.
            </Text>
          )}
        </Group>
      )}
      {ops.isFetchNextPageError && (
        <Alert color="red" title="Could not load older operations" role="alert">
          {ops.error?.message}
        </Alert>
      )}
    </Stack>
  );
}
