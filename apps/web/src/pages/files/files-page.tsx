import { Card, Group, Pagination, ScrollArea, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useSearchParams } from 'react-router';

import { Empty, ErrorState, Loading } from '../../components/query-state.tsx';
import { FilesTable } from '../../features/files/components/files-table.tsx';
import { FILES_PAGE_SIZE, useFiles } from '../../features/files/hooks.ts';
import { useNodeNames } from '../../features/nodes/hooks.ts';

const ALL = 'all';

/** Files: by node (?node=zk1, linked from the overview cards), paged, each with its history of moves. */
export default function FilesPage() {
  const [params, setParams] = useSearchParams();
  const nodes = useNodeNames();
  const node = params.get('node');
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);
  const files = useFiles(node, page);
  const pages = files.data ? Math.max(1, Math.ceil(files.data.total / FILES_PAGE_SIZE)) : 1;

  const update = (next: { node?: string | null; page?: number }) => {
    const p = new URLSearchParams(params);
    if (next.node !== undefined) {
      if (next.node) p.set('node', next.node);
      else p.delete('node');
      p.delete('page');
    }
    if (next.page !== undefined) {
      if (next.page > 1) p.set('page', String(next.page));
      else p.delete('page');
    }
    setParams(p);
  };

  const choices = [{ label: 'All nodes', value: ALL }, ...(nodes.length ? nodes : node ? [node] : []).map((n) => ({ label: n, value: n }))];

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={2}>Files</Title>
          <Text c="dimmed" size="sm">
            Demo files per node, with where each has been.
          </Text>
        </div>
        <div>
          <Text size="sm" fw={500} id="files-node-label" mb={4}>
            Node
          </Text>
          <SegmentedControl
            aria-labelledby="files-node-label"
            data={choices}
            value={node ?? ALL}
            onChange={(v) => update({ node: v === ALL ? null : v })}
            data-testid="files-node-filter"
          />
        </div>
      </Group>
      <Card withBorder padding={0}>
        {files.isPending ? (
          <Loading label="Loading files…" />
        ) : files.isError ? (
          <ErrorState title="Could not load the files" error={files.error} />
        ) : files.data.items.length === 0 ? (
          <Empty>{node ? `No files on ${node}.` : 'No files yet. Create some on the Workload page.'}</Empty>
        ) : (
          <ScrollArea type="auto">
            <FilesTable files={files.data.items} nodes={nodes} />
          </ScrollArea>
        )}
      </Card>
      {files.data && files.data.total > 0 && (
        <Group justify="space-between" wrap="wrap">
          <Text size="sm" c="dimmed" data-testid="files-count">
            {files.data.total} file{files.data.total === 1 ? '' : 's'}
            {node ? ` on ${node}` : ''}
          </Text>
          {pages > 1 && <Pagination total={pages} value={Math.min(page, pages)} onChange={(p) => update({ page: p })} />}
        </Group>
      )}
    </Stack>
  );
}
