import { Button, Group, Paper, Text } from '@mantine/core';
import { useState } from 'react';

import { useRemoveZnode, type ZnodeView } from '../hooks.ts';

/** The delete's state: the count a first (dry) remove said would go, and the remove. */
export function useZnodeDelete() {
  const remove = useRemoveZnode();
  const [pending, setPending] = useState<number | null>(null);
  return { remove, pending, setPending, reset: () => setPending(null) };
}

export type ZnodeDeleteState = ReturnType<typeof useZnodeDelete>;

/** Delete in two steps: the first remove says how many znodes would go, the second deletes them and opens the parent. */
export function ZnodeDelete({
  path,
  znode,
  state,
  locked,
  confirmFlag,
  onSelect,
}: {
  path: string;
  znode: ZnodeView;
  state: ZnodeDeleteState;
  locked: boolean;
  confirmFlag: { confirm?: true };
  onSelect: (path: string) => void;
}) {
  const { remove, pending, setPending } = state;
  return (
    <Paper withBorder p="sm">
      <Text fw={600} mb="xs">
        Delete
      </Text>
      {pending === null ? (
        <Button
          size="xs"
          color="red"
          variant="light"
          disabled={locked}
          loading={remove.isPending}
          onClick={() =>
            remove.mutate(
              { path, version: znode.stat.version, recursive: true, ...confirmFlag },
              { onSuccess: (r) => setPending(r.wouldDelete) },
            )
          }
        >
          Delete {znode.stat.numChildren > 0 ? 'with its subtree' : 'this node'}…
        </Button>
      ) : (
        <Group gap="xs">
          <Text size="sm">
            {pending} znode{pending === 1 ? '' : 's'} will go.
          </Text>
          <Button size="xs" variant="default" onClick={() => setPending(null)}>
            Keep
          </Button>
          <Button
            size="xs"
            color="red"
            onClick={() =>
              remove.mutate(
                { path, version: -1, recursive: true, confirm: true },
                { onSuccess: () => onSelect(path.slice(0, path.lastIndexOf('/')) || '/') },
              )
            }
          >
            Delete {pending}
          </Button>
        </Group>
      )}
    </Paper>
  );
}
