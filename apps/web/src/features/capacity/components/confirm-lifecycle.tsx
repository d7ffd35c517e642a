import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useState } from 'react';

import { formatBytes } from '../../../lib/format.ts';
import { useCancelDecommission, useDecommission, useReactivate, type StorageNodeView } from '../hooks.ts';
import { validateReason } from '../validation.ts';

/** A lifecycle change asked for one node, waiting for the operator's confirmation. */
export type LifecycleAsk = { node: StorageNodeView; action: 'decommission' | 'cancel' | 'reactivate' };

const TITLE: Record<LifecycleAsk['action'], (n: string) => string> = {
  decommission: (n) => `Decommission ${n}?`,
  cancel: (n) => `Cancel the decommission of ${n}?`,
  reactivate: (n) => `Reactivate ${n}?`,
};

/** The three lifecycle mutations behind one confirm, with the decommission's reason and its validation error. */
function useLifecycleChange(ask: LifecycleAsk | null, onClose: () => void) {
  const decommission = useDecommission();
  const cancel = useCancelDecommission();
  const reactivate = useReactivate();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const busy = decommission.isPending || cancel.isPending || reactivate.isPending;
  const close = () => {
    if (busy) return;
    setReason('');
    setError(null);
    onClose();
  };
  const settle = { onSettled: () => (setReason(''), setError(null), onClose()) };
  const confirm = () => {
    if (!ask) return;
    const node = ask.node.node;
    if (ask.action === 'decommission') {
      const checked = validateReason(node, reason);
      if (!checked.ok) return setError(checked.error);
      decommission.mutate({ node, ...(checked.reason ? { reason: checked.reason } : {}) }, settle);
    } else if (ask.action === 'cancel') {
      cancel.mutate({ node }, settle);
    } else {
      reactivate.mutate({ node }, settle);
    }
  };
  return { reason, setReason, error, busy, close, confirm };
}

function confirmLabel(ask: LifecycleAsk): string {
  if (ask.action === 'decommission') return `Decommission ${ask.node.node}`;
  return ask.action === 'cancel' ? 'Cancel decommission' : `Reactivate ${ask.node.node}`;
}

/** The confirmation of a lifecycle change: what it will do in words; a decommission takes an optional reason. */
export function ConfirmLifecycle({ ask, onClose, activeCount }: { ask: LifecycleAsk | null; onClose: () => void; activeCount: number }) {
  const change = useLifecycleChange(ask, onClose);
  const { busy } = change;
  const n = ask?.node;
  return (
    <Modal opened={ask !== null} onClose={change.close} title={ask && n ? TITLE[ask.action](n.node) : ''} centered>
      {ask && n && (
        <Stack>
          {ask.action === 'decommission' && (
            <DecommissionDetails n={n} activeCount={activeCount} reason={change.reason} onReason={change.setReason} error={change.error} />
          )}
          {ask.action === 'cancel' && (
            <Text size="sm">
              The moves still queued off {n.node} are cancelled and it becomes active again, keeping the{' '}
              {n.decommission ? n.decommission.filesLeft : n.files} files it still holds. Files already moved stay where they are.
            </Text>
          )}
          {ask.action === 'reactivate' && (
            <Text size="sm">
              {n.node} joins again: once its storage agent answers it becomes active, and files are rebalanced toward it with the current
              strategy.
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={change.close} disabled={busy}>
              Back
            </Button>
            <Button
              color={ask.action === 'decommission' ? 'orange' : 'indigo'}
              onClick={change.confirm}
              loading={busy}
              disabled={busy}
              data-autofocus
            >
              {confirmLabel(ask)}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** What a decommission does to this node, a warning when few active nodes remain, and the optional reason. */
function DecommissionDetails({
  n,
  activeCount,
  reason,
  onReason,
  error,
}: {
  n: StorageNodeView;
  activeCount: number;
  reason: string;
  onReason: (reason: string) => void;
  error: string | null;
}) {
  return (
    <>
      <Text size="sm">
        {n.node} is marked leaving: it takes no new files, and its {n.files} files ({formatBytes(n.bytes)}) move to the other active nodes
        under the migration caps. When it holds nothing it is removed. You can cancel until then, and reactivate it later.
      </Text>
      {activeCount <= 2 && (
        <Alert color="orange" variant="light">
          Only {activeCount - 1} active {activeCount - 1 === 1 ? 'node' : 'nodes'} will be left to hold every file.
        </Alert>
      )}
      <Textarea
        label="Reason"
        description="Optional; recorded in the operations log"
        value={reason}
        onChange={(e) => onReason(e.currentTarget.value)}
        error={error}
        autosize
        minRows={1}
        maxRows={4}
      />
    </>
  );
}
