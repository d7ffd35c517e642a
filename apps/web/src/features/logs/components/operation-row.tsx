import { Badge, Code, Collapse, SimpleGrid, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';

import { ExpandToggle } from '../../../components/expand-toggle.tsx';
import { formatTime, formatValue } from '../../../lib/format.ts';
import type { OperationRecord } from '../hooks.ts';
import { moveCount, summarizeMoves } from '../move-summary.ts';

const STATUS_COLOR: Record<string, string> = { success: 'teal', failed: 'red', skipped: 'gray' };

/** One line saying what happened, from the details the server recorded. */
export function summarize(op: OperationRecord): string {
  const d = op.details as Record<string, unknown>;
  const s = (v: unknown) => formatValue(v);
  switch (op.action) {
    case 'auto_migrate':
    case 'migrate':
      return summarizeMoves(d);
    case 'drain':
      return d.reason ? `reason: ${s(d.reason)}` : '';
    case 'undrain':
      return 'takes files again';
    case 'stress':
    case 'bulk_generate':
      return `${s(d.created ?? d.count)} files of ${s(d.sizeKb)} KiB on ${s(d.placement)}${d.triggerScheduler ? ', scheduler after' : ''}${d.error ? ` — ${s(d.error)}` : ''}`;
    case 'scheduler_config':
      return `set ${JSON.stringify(d.patch ?? {})}`;
    default:
      return s(d.message) || s(d.error) || '';
  }
}

/** Flat records of plain values read best inline ("zk1: 20, zk2: 6"); anything deeper as pretty JSON. */
function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <>—</>;
  if (Array.isArray(value) && value.every((x) => typeof x !== 'object' || x === null))
    return <>{value.length ? value.join(', ') : 'none'}</>;
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (!Array.isArray(value) && entries.every(([, x]) => typeof x !== 'object' || x === null)) {
      return <>{entries.map(([k, x]) => `${k}: ${String(x)}`).join(', ') || '{}'}</>;
    }
    return (
      <Code block fz="xs">
        {JSON.stringify(value, null, 2)}
      </Code>
    );
  }
  return <>{formatValue(value)}</>;
}

function KeyValues({ title, value }: { title: string; value: Record<string, unknown> | null }) {
  return (
    <Stack gap={4}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {title}
      </Text>
      {value === null || Object.keys(value).length === 0 ? (
        <Text size="sm" c="dimmed">
          none
        </Text>
      ) : (
        <Table withTableBorder fz="xs" verticalSpacing={2}>
          <Table.Tbody>
            {Object.entries(value).map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Td fw={600} w="35%" style={{ verticalAlign: 'top' }}>
                  {k}
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-word' }}>
                  <Value value={v} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** A row of the audit log; expands to its details and the metrics before and after. */
export function OperationRow({ op, fresh }: { op: OperationRecord; fresh?: boolean }) {
  const [open, setOpen] = useState(false);
  const detailsId = `op-${op.id}-details`;
  return (
    <>
      <Table.Tr
        data-testid="operation-row"
        data-action={op.action}
        data-id={op.id}
        bg={fresh ? 'var(--mantine-color-yellow-light)' : undefined}
      >
        <Table.Td w={40}>
          <ExpandToggle open={open} controls={detailsId} what={`details of operation ${op.id}`} onToggle={() => setOpen((o) => !o)} />
        </Table.Td>
        <Table.Td style={{ whiteSpace: 'nowrap' }}>
          <Text size="sm">{formatTime(op.timestamp)}</Text>
        </Table.Td>
        <Table.Td>
          <Badge variant="light" data-testid="operation-action">
            {op.action}
          </Badge>
          {(moveCount(op) ?? 0) > 1 && (
            <Badge variant="outline" color="gray" ml={4} data-testid="operation-moves">
              {moveCount(op)} moves
            </Badge>
          )}
        </Table.Td>
        <Table.Td>{op.node ?? '—'}</Table.Td>
        <Table.Td>
          <Badge color={STATUS_COLOR[op.status] ?? 'gray'} variant="dot">
            {op.status}
          </Badge>
        </Table.Td>
        <Table.Td>
          <Text size="sm" lineClamp={2}>
            {summarize(op)}
          </Text>
          {op.actor && (
            <Text size="xs" c="dimmed" data-testid="operation-actor">
              by {op.actor}
            </Text>
          )}
        </Table.Td>
      </Table.Tr>
      <Table.Tr id={detailsId} style={open ? undefined : { display: 'none' }}>
        <Table.Td colSpan={6} p={0}>
          <Collapse expanded={open}>
            <SimpleGrid cols={{ base: 1, md: 3 }} spacing="sm" p="sm" data-testid="operation-details">
              <KeyValues title={`Details (#${op.id})`} value={op.details} />
              <KeyValues title="Before" value={op.beforeMetrics} />
              <KeyValues title="After" value={op.afterMetrics} />
            </SimpleGrid>
          </Collapse>
        </Table.Td>
      </Table.Tr>
    </>
  );
}

export function OperationsTableHead() {
  return (
    <Table.Thead>
      <Table.Tr>
        <Table.Th>
          <VisuallyHidden>Expand</VisuallyHidden>
        </Table.Th>
        <Table.Th>Time</Table.Th>
        <Table.Th>Action</Table.Th>
        <Table.Th>Node</Table.Th>
        <Table.Th>Status</Table.Th>
        <Table.Th>Summary</Table.Th>
      </Table.Tr>
    </Table.Thead>
  );
}
