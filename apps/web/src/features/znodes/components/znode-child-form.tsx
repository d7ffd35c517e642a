import { Button, Group, NumberInput, Paper, SegmentedControl, Text, TextInput } from '@mantine/core';
import { useState } from 'react';

import { childPath } from '../format.ts';
import { useCreateZnode } from '../hooks.ts';

type ChildMode = 'persistent' | 'persistent_sequential';

/** The child form's state: name, kind, TTL, and the create. */
export function useZnodeChildForm() {
  const create = useCreateZnode();
  const [name, setName] = useState('');
  const [mode, setMode] = useState<ChildMode>('persistent');
  // ZooKeeper deletes a TTL node once it has had no children and no change for this long.
  const [ttlSec, setTtlSec] = useState<number | ''>('');
  return { create, name, setName, mode, setMode, ttlSec, setTtlSec };
}

export type ZnodeChildFormState = ReturnType<typeof useZnodeChildForm>;

/** Adds a child (persistent or sequential, with an optional TTL) and opens it once made. */
export function ZnodeChildForm({
  path,
  form,
  locked,
  confirmFlag,
  onSelect,
}: {
  path: string;
  form: ZnodeChildFormState;
  locked: boolean;
  confirmFlag: { confirm?: true };
  onSelect: (path: string) => void;
}) {
  const { create, name, setName, mode, setMode, ttlSec, setTtlSec } = form;
  return (
    <Paper withBorder p="sm">
      <Text fw={600} mb="xs">
        Add a child
      </Text>
      <Group gap="xs" align="end">
        <TextInput size="xs" placeholder="name" value={name} onChange={(e) => setName(e.currentTarget.value)} aria-label="Child name" />
        <SegmentedControl
          size="xs"
          value={mode}
          onChange={(m) => setMode(m)}
          data={[
            { value: 'persistent', label: 'Persistent' },
            { value: 'persistent_sequential', label: 'Sequential' },
          ]}
          aria-label="Child kind"
        />
        <NumberInput
          size="xs"
          w={110}
          placeholder="no TTL"
          aria-label="TTL in seconds"
          min={1}
          allowDecimal={false}
          suffix=" s TTL"
          value={ttlSec}
          onChange={(v) => setTtlSec(typeof v === 'number' ? v : '')}
        />
        <Button
          size="xs"
          disabled={name.trim() === '' || locked}
          loading={create.isPending}
          onClick={() =>
            create.mutate(
              {
                path: childPath(path, name.trim()),
                data: { text: '' },
                mode,
                ...(ttlSec !== '' ? { ttlMs: ttlSec * 1000 } : {}),
                ...confirmFlag,
              },
              { onSuccess: (made) => (setName(''), setTtlSec(''), onSelect(made.path)) },
            )
          }
        >
          Create
        </Button>
      </Group>
    </Paper>
  );
}
