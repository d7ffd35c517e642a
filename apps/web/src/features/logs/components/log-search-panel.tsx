import { Alert, Button, Card, Group, ScrollArea, Stack, Switch, Table, Text } from '@mantine/core';
import { useCallback, useMemo, useState } from 'react';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { matchesLogFilters } from '../highlight.ts';
import { useLogSearch, useLogTail, type LogHit, type LogSearchFilters as Filters } from '../hooks.ts';
import { LogLineRow, LogLinesTableHead } from './log-line-row.tsx';
import { LogSearchFilters } from './log-search-filters.tsx';

/** Full-text search over the server's and the ZooKeeper nodes' logs, newest first, with a live tail on top. */
export function LogSearchPanel() {
  const [filters, setFilters] = useState<Filters>({});
  const [tail, setTail] = useState(false);
  const [live, setLive] = useState<LogHit[]>([]);
  const search = useLogSearch(filters);

  const onFilters = useCallback((f: Filters) => {
    setFilters((prev) => (JSON.stringify(prev) === JSON.stringify(f) ? prev : f));
    setLive([]);
  }, []);

  const tailSub = useLogTail(
    filters,
    (entry) => {
      if (matchesLogFilters(entry, filters)) setLive((prev) => [entry, ...prev].slice(0, 500));
    },
    tail,
  );

  const rows = useMemo(() => {
    const fromPages = search.data?.pages.flatMap((p) => p.items) ?? [];
    const known = new Set(fromPages.map((e) => e.id));
    const fresh = live.filter((e) => !known.has(e.id));
    return { all: [...fresh, ...fromPages].sort((a, b) => b.id - a.id), fresh: new Set(fresh.map((e) => e.id)) };
  }, [search.data, live]);

  const total = search.data?.pages[0]?.total;
  const filtered = Object.keys(filters).length > 0;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Text c="dimmed" size="sm">
          The server&apos;s own log, each ZooKeeper node&apos;s log and each storage agent&apos;s log, newest first.
        </Text>
        <Switch
          label="Live tail of log lines"
          description={tail ? (tailSub.status === 'pending' ? 'matching lines appear at the top' : 'connecting…') : 'off'}
          checked={tail}
          onChange={(e) => setTail(e.currentTarget.checked)}
          data-testid="log-live-tail"
        />
      </Group>
      <Card withBorder padding="md">
        <LogSearchFilters onChange={onFilters} />
      </Card>
      <Card withBorder padding={0}>
        {search.isPending ? (
          <Loading label="Searching the logs…" />
        ) : search.isError ? (
          <ErrorState title="Could not search the logs" error={search.error} />
        ) : rows.all.length === 0 ? (
          <Empty>{filtered ? 'No log lines match this search.' : 'No log lines yet.'}</Empty>
        ) : (
          <ScrollArea type="auto">
            <Table highlightOnHover miw={720} data-testid="log-lines" aria-label="Log lines" verticalSpacing={4}>
              <LogLinesTableHead />
              <Table.Tbody>
                {rows.all.map((e) => (
                  <LogLineRow key={e.id} entry={e} fresh={rows.fresh.has(e.id)} />
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        )}
      </Card>
      {search.data && rows.all.length > 0 && (
        <Group justify="space-between" wrap="wrap">
          <Text size="sm" c="dimmed" data-testid="log-lines-count">
            Showing {rows.all.length}
            {total !== undefined && total !== null ? ` of ${total + rows.fresh.size}` : ''}
          </Text>
          {search.hasNextPage ? (
            <Button variant="default" onClick={() => void search.fetchNextPage()} loading={search.isFetchingNextPage}>
              Load more
            </Button>
          ) : (
            <Text size="sm" c="dimmed">
              No older lines.
            </Text>
          )}
        </Group>
      )}
      {search.isFetchNextPageError && (
        <Alert color="red" title="Could not load more log lines" role="alert">
          {search.error?.message}
        </Alert>
      )}
    </Stack>
  );
}
