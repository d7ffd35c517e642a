import { Button, Group, Select, SimpleGrid, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState } from 'react';

import { useNodeNames } from '../../nodes/hooks.ts';
import type { OperationFilters as Filters } from '../hooks.ts';

/** The actions the server records; a free-text search finds anything else. */
const ACTIONS = [
  'auto_migrate',
  'migrate',
  'stress',
  'bulk_generate',
  'drain',
  'undrain',
  'scheduler_config',
  'leader_changed',
  'node_down',
  'node_up',
  'quorum_lost',
  'quorum_restored',
  'node_stop',
  'node_start',
  'node_restart',
  'node_kill',
  'workload_start',
  'workload_stop',
  'workload_config',
  'workload_tick',
];

// Typed against the shared schema without importing it: the logs page needs no zod at run time.
const STATUSES = ['success', 'failed', 'skipped'] as const satisfies readonly NonNullable<Filters['status']>[];

/** "2024-05-01T10:00" (local, from <input type=datetime-local>) → ISO with offset, as the API wants. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function OperationFilters({ onChange }: { onChange: (f: Filters) => void }) {
  const nodes = useNodeNames();
  const [action, setAction] = useState<string | null>(null);
  const [node, setNode] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [debouncedText] = useDebouncedValue(text.trim(), 300);

  useEffect(() => {
    const f: Filters = {};
    if (action) f.action = action;
    if (node) f.node = node;
    if (status) f.status = status as Filters['status'];
    const fromIso = toIso(from);
    const toIsoValue = toIso(to);
    if (fromIso) f.from = fromIso;
    if (toIsoValue) f.to = toIsoValue;
    if (debouncedText) f.text = debouncedText.slice(0, 200);
    onChange(f);
  }, [action, node, status, from, to, debouncedText, onChange]);

  const clear = () => {
    setAction(null);
    setNode(null);
    setStatus(null);
    setFrom('');
    setTo('');
    setText('');
  };
  const any = action || node || status || from || to || text;

  return (
    <SimpleGrid
      cols={{ base: 1, xs: 2, md: 3 }}
      spacing="sm"
      component="form"
      aria-label="Filter operations"
      onSubmit={(e) => e.preventDefault()}
    >
      <Select label="Action" placeholder="Any action" data={ACTIONS} value={action} onChange={setAction} clearable searchable />
      <Select label="Node" placeholder="Any node" data={nodes} value={node} onChange={setNode} clearable />
      <Select label="Status" placeholder="Any status" data={[...STATUSES]} value={status} onChange={setStatus} clearable />
      <TextInput label="From" type="datetime-local" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
      <TextInput label="To" type="datetime-local" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
      <Group align="flex-end" gap="xs" wrap="nowrap">
        <TextInput
          label="Search"
          placeholder="file name, reason…"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          style={{ flex: 1 }}
        />
        <Button variant="subtle" onClick={clear} disabled={!any}>
          Clear
        </Button>
      </Group>
    </SimpleGrid>
  );
}
