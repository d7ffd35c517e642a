import { Alert, Button, Card, Group, ScrollArea, Stack, Switch, Table, Text } from '@mantine/core';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { useLogSearchPanel } from '../hooks.ts';
import { LogLineRow, LogLinesTableHead } from './log-line-row.tsx';
import { LogSearchFilters } from './log-search-filters.tsx';

type Panel = ReturnType<typeof useLogSearchPanel>;

/** Full-text search over the server's and the ZooKeeper nodes' logs, newest first, with a live tail on top. */
export function LogSearchPanel() {
  const panel = useLogSearchPanel();
  const { search, tail, tailStatus } = panel;
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Text c="dimmed" size="sm">
          The server&apos;s own log, each ZooKeeper node&apos;s log and each storage agent&apos;s log, newest first.
        </Text>
        <Switch
          label="Live tail of log lines"
          description={tail ? (tailStatus === 'pending' ? 'matching lines appear at the top' : 'connecting…') : 'off'}
          checked={tail}
          onChange={(e) => panel.setTail(e.currentTarget.checked)}
          data-testid="log-live-tail"
        />
      </Group>
      <Card withBorder padding="md">
        <LogSearchFilters onChange={panel.onFilters} />
      </Card>
      <Card withBorder padding={0}>
        <LogLinesTable panel={panel} />
      </Card>
      {search.data && panel.rows.all.length > 0 && <LogLinesPager panel={panel} />}
      {search.isFetchNextPageError && (
        <Alert color="red" title="Could not load more log lines" role="alert">
          {search.error?.message}
        </Alert>
      )}
    </Stack>
  );
}

/** The matching lines, live ones on top; or why there are none. */
function LogLinesTable({ panel: { search, rows, filtered } }: { panel: Panel }) {
  if (search.isPending) return <Loading label="Searching the logs…" />;
  if (search.isError) return <ErrorState title="Could not search the logs" error={search.error} />;
  if (rows.all.length === 0) return <Empty>{filtered ? 'No log lines match this search.' : 'No log lines yet.'}</Empty>;
  return (
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
  );
}

/** How many lines are shown (of how many match, when the server counted), and "Load more" while more remain. */
function LogLinesPager({ panel: { search, rows, total } }: { panel: Panel }) {
  return (
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
  );
}
