import { Badge, Code, Collapse, Grid, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';

import { ExpandToggle } from '../../../components/expand-toggle.tsx';
import { formatBytes, formatTime } from '../../../lib/format.ts';
import type { FileRecord } from '../hooks.ts';
import { FileHistory } from './file-history.tsx';
import { MoveFileButton } from './move-file-button.tsx';

function moves(f: FileRecord): number {
  return f.history.filter((h) => h.from !== undefined && h.to !== undefined).length;
}

function FileRow({ file, nodes }: { file: FileRecord; nodes: readonly string[] }) {
  const [open, setOpen] = useState(false);
  const id = `file-${file.uuid}-history`;
  const n = moves(file);
  return (
    <>
      <Table.Tr data-testid="file-row" data-node={file.node}>
        <Table.Td w={40}>
          <ExpandToggle open={open} controls={id} what={`history of ${file.name}`} onToggle={() => setOpen((o) => !o)} />
        </Table.Td>
        <Table.Td style={{ wordBreak: 'break-all' }}>
          <Text size="sm" ff="monospace">
            {file.name}
          </Text>
        </Table.Td>
        <Table.Td>
          <Badge variant="light">{file.node}</Badge>
        </Table.Td>
        <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatBytes(file.sizeBytes)}</Table.Td>
        <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(file.createdAt)}</Table.Td>
        <Table.Td>{n === 0 ? 'never moved' : `${n} move${n === 1 ? '' : 's'}`}</Table.Td>
        <Table.Td>
          <MoveFileButton file={file} nodes={nodes} />
        </Table.Td>
      </Table.Tr>
      <Table.Tr id={id} style={open ? undefined : { display: 'none' }}>
        <Table.Td colSpan={7}>
          <Collapse expanded={open}>
            <Grid p="xs">
              <Grid.Col span={{ base: 12, md: 6 }}>
                <FileHistory file={file} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 6 }}>
                <Stack gap={4}>
                  <Text size="xs" c="dimmed">
                    uuid <Code>{file.uuid}</Code>
                  </Text>
                  <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                    sha256 <Code>{file.sha256}</Code>
                  </Text>
                  <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                    path <Code>{file.path}</Code>
                  </Text>
                </Stack>
              </Grid.Col>
            </Grid>
          </Collapse>
        </Table.Td>
      </Table.Tr>
    </>
  );
}

/** `nodes`: where a file may be moved to (the Move button's choices). */
export function FilesTable({ files, nodes }: { files: FileRecord[]; nodes: readonly string[] }) {
  return (
    <Table highlightOnHover miw={740} data-testid="files-table" aria-label="Files">
      <Table.Thead>
        <Table.Tr>
          <Table.Th aria-label="Expand" />
          <Table.Th>Name</Table.Th>
          <Table.Th>Node</Table.Th>
          <Table.Th>Size</Table.Th>
          <Table.Th>Created</Table.Th>
          <Table.Th>Moves</Table.Th>
          <Table.Th aria-label="Actions" />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {files.map((f) => (
          <FileRow key={f.uuid} file={f} nodes={nodes} />
        ))}
      </Table.Tbody>
    </Table>
  );
}
