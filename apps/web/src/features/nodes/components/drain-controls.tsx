import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';

import { useDrainNode, useUndrainNode } from '../hooks.ts';

/** Drain (asks for a reason) or undrain (asks to confirm) one node. */
export function DrainControls({ node, drained }: { node: string; drained: boolean }) {
  const [opened, { open, close }] = useDisclosure(false);
  const [reason, setReason] = useState('');
  const drain = useDrainNode();
  const undrain = useUndrainNode();
  const busy = drain.isPending || undrain.isPending;

  const confirm = () => {
    if (drained) {
      undrain.mutate({ node }, { onSuccess: close });
    } else {
      drain.mutate({ node, ...(reason.trim() ? { reason: reason.trim() } : {}) }, { onSuccess: () => (close(), setReason('')) });
    }
  };

  return (
    <>
      <Button
        size="xs"
        variant={drained ? 'light' : 'outline'}
        color={drained ? 'teal' : 'orange'}
        onClick={open}
        loading={busy}
        disabled={busy}
      >
        {drained ? `Undrain ${node}` : `Drain ${node}`}
      </Button>
      <Modal opened={opened} onClose={close} title={drained ? `Undrain ${node}?` : `Drain ${node}?`} centered>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            confirm();
          }}
        >
          <Stack>
            {drained ? (
              <Text size="sm">{node} will take files again, and the scheduler may pick it as a target.</Text>
            ) : (
              <>
                <Text size="sm">The scheduler moves every file off {node} and never chooses it as a target until it is undrained.</Text>
                <TextInput
                  label="Reason"
                  description="Shown on the node card and in the operations log"
                  placeholder="e.g. disk swap"
                  value={reason}
                  onChange={(e) => setReason(e.currentTarget.value)}
                  data-autofocus
                />
              </>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close} disabled={busy}>
                Cancel
              </Button>
              <Button type="submit" color={drained ? 'teal' : 'orange'} loading={busy} disabled={busy}>
                {drained ? 'Undrain' : 'Drain'}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
