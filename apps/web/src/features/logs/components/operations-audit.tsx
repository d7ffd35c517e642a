import { Alert, Button, Card, Group, ScrollArea, Stack, Switch, Table, Text } from '@mantine/core';

import { Empty, ErrorState, Loading } from '../../../components/query-state.tsx';
import { useOperationsAudit } from '../hooks.ts';
import { OperationFilters } from './operation-filters.tsx';
import { OperationRow, OperationsTableHead } from './operation-row.tsx';

type Audit = ReturnType<typeof useOperationsAudit>;

/** The operations audit trail, filtered and paged, with a live tail. */
export function OperationsAudit() {
  const audit = useOperationsAudit();
  const { ops, tail, tailStatus } = audit;
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Text c="dimmed" size="sm">
          Every operation zkha performed or saw, newest first.
        </Text>
        <Switch
          label="Live tail"
          description={tail ? (tailStatus === 'pending' ? 'new operations appear at the top' : 'connecting…') : 'off'}
          checked={tail}
          onChange={(e) => audit.switchTail(e.currentTarget.checked)}
          data-testid="live-tail"
        />
      </Group>
      <Card withBorder padding="md">
        <OperationFilters onChange={audit.onFilters} />
      </Card>
      <Card withBorder padding={0}>
        <OperationsTable audit={audit} />
      </Card>
      {ops.data && audit.rows.all.length > 0 && <OperationsPager audit={audit} />}
      {ops.isFetchNextPageError && (
        <Alert color="red" title="Could not load older operations" role="alert">
          {ops.error?.message}
        </Alert>
      )}
    </Stack>
  );
}

/** The loaded operations, live ones on top; or why there are none. */
function OperationsTable({ audit: { ops, rows, filtered } }: { audit: Audit }) {
  if (ops.isPending) return <Loading label="Loading operations…" />;
  if (ops.isError) return <ErrorState title="Could not load the operations" error={ops.error} />;
  if (rows.all.length === 0) return <Empty>{filtered ? 'No operations match these filters.' : 'No operations yet.'}</Empty>;
  return (
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
  );
}

/** How many are shown, and "Load older" while older pages remain. */
function OperationsPager({ audit: { ops, rows, total } }: { audit: Audit }) {
  return (
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
  );
}
