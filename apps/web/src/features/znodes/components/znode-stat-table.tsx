import { Paper, Table, Text } from '@mantine/core';

import type { ZnodeView } from '../hooks.ts';

/** The znode's stat, one field a row; ctime and mtime as UTC dates. */
export function ZnodeStatTable({ stat }: { stat: ZnodeView['stat'] }) {
  return (
    <Paper withBorder p="sm">
      <Text fw={600} mb="xs">
        Stat
      </Text>
      <Table withRowBorders={false} verticalSpacing={1} data-testid="znode-stat">
        <Table.Tbody>
          {Object.entries(stat).map(([k, val]) => (
            <Table.Tr key={k}>
              <Table.Td>
                <Text size="sm" c="dimmed">
                  {k}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {k === 'ctime' || k === 'mtime'
                    ? `${new Date(val as number).toISOString().replace('T', ' ').slice(0, 19)} UTC`
                    : String(val)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
