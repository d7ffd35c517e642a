import { Alert, Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';

import { formatBytes } from '../../../lib/format.ts';
import { errorMessage } from '../../../lib/notify.ts';
import { useMoveFile, type FileRecord } from '../hooks.ts';

/** "Move": pick a target node for one file; the server's refusal (drained, offline, full, already moving...) shows in the dialog. */
export function MoveFileButton({ file, nodes }: { file: FileRecord; nodes: readonly string[] }) {
  const [opened, { open, close }] = useDisclosure(false);
  const targets = nodes.filter((n) => n !== file.node);
  const [target, setTarget] = useState<string | null>(null);
  const move = useMoveFile();

  const openDialog = () => {
    move.reset();
    setTarget(targets[0] ?? null);
    open();
  };

  return (
    <>
      <Button size="compact-xs" variant="light" onClick={openDialog} aria-label={`Move ${file.name}`} data-testid="file-move">
        Move
      </Button>
      <Modal opened={opened} onClose={close} title={`Move ${file.name}`} centered>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (target) move.mutate({ uuid: file.uuid, target }, { onSuccess: close });
          }}
        >
          <Stack>
            <Text size="sm">
              From {file.node} ({formatBytes(file.sizeBytes)}). The move is queued ahead of planned ones and runs under the migration caps.
            </Text>
            <Select
              label="Target node"
              data={targets}
              value={target}
              onChange={(v) => {
                setTarget(v);
                move.reset();
              }}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
              data-testid="file-move-target"
              data-autofocus
            />
            {move.error && (
              <Alert color="red" title="Not moved" role="alert" data-testid="file-move-error">
                {errorMessage(move.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close} disabled={move.isPending}>
                Cancel
              </Button>
              <Button type="submit" loading={move.isPending} disabled={!target || move.isPending} data-testid="file-move-confirm">
                Move
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
