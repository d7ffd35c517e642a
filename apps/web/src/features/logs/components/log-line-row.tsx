import { Badge, Code, Table, Text } from '@mantine/core';

import { formatTime } from '../../../lib/format.ts';
import { safeHighlight } from '../highlight.ts';
import type { LogHit } from '../hooks.ts';

const LEVEL_COLOR: Record<string, string> = { trace: 'gray', debug: 'gray', info: 'blue', warn: 'yellow', error: 'red', fatal: 'red' };

export function LogLinesTableHead() {
  return (
    <Table.Thead>
      <Table.Tr>
        <Table.Th w={170}>Time</Table.Th>
        <Table.Th w={80}>Level</Table.Th>
        <Table.Th w={110}>Source</Table.Th>
        <Table.Th>Message</Table.Th>
      </Table.Tr>
    </Table.Thead>
  );
}

/** One log line; the match highlighted when the server's highlight is safe to render, the plain message otherwise. */
export function LogLineRow({ entry, fresh }: { entry: LogHit; fresh: boolean }) {
  const html = safeHighlight(entry.highlight);
  return (
    <Table.Tr
      data-testid="log-line"
      data-id={entry.id}
      data-source={entry.source}
      data-level={entry.level}
      bg={fresh ? 'var(--mantine-color-yellow-light)' : undefined}
    >
      <Table.Td>
        <Text size="xs" ff="monospace" c="dimmed">
          {formatTime(entry.ts)}
        </Text>
      </Table.Td>
      <Table.Td>
        <Badge size="sm" variant="light" color={LEVEL_COLOR[entry.level] ?? 'gray'}>
          {entry.level}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Code>{entry.source}</Code>
      </Table.Td>
      <Table.Td>
        {html !== null ? (
          <Text
            size="sm"
            ff="monospace"
            style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}
            data-testid="log-message"
            dangerouslySetInnerHTML={{ __html: html }}
          />
        ) : (
          <Text size="sm" ff="monospace" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }} data-testid="log-message">
            {entry.message}
          </Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}
