import { Alert, Badge, Box, Button, Card, Group, Modal, Progress, Stack, Text, Textarea, Title } from '@mantine/core';
import { useState } from 'react';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatBytes, formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatFraction, formatRate } from '../../migrations/format.ts';
import { useCancelDecommission, useDecommission, useReactivate, type NodeLifecycle, type StorageNodeView } from '../hooks.ts';
import { validateReason } from '../validation.ts';
import { AddNodeForm } from './add-node-form.tsx';

export const LIFECYCLE_COLOR: Record<NodeLifecycle, string> = { joining: 'blue', active: 'teal', leaving: 'orange', removed: 'gray' };
const STORE_COLOR: Record<string, string> = { OK: 'teal', OFFLINE: 'red', SUSPECT: 'yellow' };

type Ask = { node: StorageNodeView; action: 'decommission' | 'cancel' | 'reactivate' };

const TITLE: Record<Ask['action'], (n: string) => string> = {
  decommission: (n) => `Decommission ${n}?`,
  cancel: (n) => `Cancel the decommission of ${n}?`,
  reactivate: (n) => `Reactivate ${n}?`,
};

/** The confirmation of a lifecycle change: what it will do in words; a decommission takes an optional reason. */
function ConfirmLifecycle({ ask, onClose, activeCount }: { ask: Ask | null; onClose: () => void; activeCount: number }) {
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
  const n = ask?.node;
  return (
    <Modal opened={ask !== null} onClose={close} title={ask && n ? TITLE[ask.action](n.node) : ''} centered>
      {ask && n && (
        <Stack>
          {ask.action === 'decommission' && (
            <>
              <Text size="sm">
                {n.node} is marked leaving: it takes no new files, and its {n.files} files ({formatBytes(n.bytes)}) move to the other active
                nodes under the migration caps. When it holds nothing it is removed. You can cancel until then, and reactivate it later.
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
                onChange={(e) => setReason(e.currentTarget.value)}
                error={error}
                autosize
                minRows={1}
                maxRows={4}
              />
            </>
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
            <Button variant="default" onClick={close} disabled={busy}>
              Back
            </Button>
            <Button
              color={ask.action === 'decommission' ? 'orange' : 'indigo'}
              onClick={confirm}
              loading={busy}
              disabled={busy}
              data-autofocus
            >
              {ask.action === 'decommission'
                ? `Decommission ${n.node}`
                : ask.action === 'cancel'
                  ? 'Cancel decommission'
                  : `Reactivate ${n.node}`}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function DecommissionBar({ d }: { d: NonNullable<StorageNodeView['decommission']> }) {
  return (
    <Box mt={6} data-testid="decommission-progress">
      <Progress value={d.percent} color="orange" striped animated={d.openMoves > 0} aria-label={`Decommission ${d.percent}% done`} />
      <Text size="xs" c="dimmed" mt={4} data-testid="decommission-figures">
        {d.percent.toFixed(1)}% · {d.filesLeft} of {d.filesAtStart} files left ({formatBytes(d.bytesLeft)}) · {d.openMoves} moves open
        {d.rateBytesPerSec > 0 ? ` · ${formatRate(d.rateBytesPerSec)}` : ''} · ETA {formatDuration(d.etaMs)} · since{' '}
        {formatAgo(d.startedAt)}
      </Text>
      {d.blocked && (
        <Text size="xs" c="orange" mt={2} data-testid="decommission-blocked">
          Stuck: {d.blocked}
        </Text>
      )}
    </Box>
  );
}

function NodeRow({ node, first, onAsk }: { node: StorageNodeView; first: boolean; onAsk: (a: Ask) => void }) {
  const used = node.capacityBytes ? node.bytes / node.capacityBytes : null;
  return (
    <Box
      role="listitem"
      py={8}
      style={first ? undefined : { borderTop: '1px solid var(--mantine-color-default-border)' }}
      data-testid="lifecycle-node"
      data-node={node.node}
      data-lifecycle={node.lifecycle}
    >
      <Group justify="space-between" wrap="wrap" gap="xs" align="flex-start">
        <Stack gap={2} style={{ flex: '1 1 220px', minWidth: 0 }}>
          <Group gap={6} wrap="wrap">
            <Text fw={600} size="sm">
              {node.node}
            </Text>
            <Badge
              size="sm"
              color={LIFECYCLE_COLOR[node.lifecycle]}
              variant={node.lifecycle === 'leaving' ? 'filled' : 'light'}
              data-testid="lifecycle-badge"
            >
              {node.lifecycle}
            </Badge>
            {node.origin === 'added' && (
              <Badge size="sm" variant="outline" color="gray">
                added
              </Badge>
            )}
            {node.store && (
              <Badge size="sm" variant="dot" color={STORE_COLOR[node.store] ?? 'gray'}>
                store {node.store}
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed" data-testid="lifecycle-usage">
            {node.files} files · {formatBytes(node.bytes)}
            {node.capacityBytes ? ` of ${formatBytes(node.capacityBytes)} (${formatFraction(used)})` : ''}
            {node.weight !== null ? ` · weight ${node.weight}` : ''}
          </Text>
          <Text size="xs" c="dimmed" title={formatTime(node.since)}>
            {node.lifecycle} {formatAgo(node.since)}
            {node.reason ? ` · ${node.reason}` : ''}
          </Text>
        </Stack>
        <Group gap={6}>
          {node.lifecycle === 'active' && (
            <Button
              size="xs"
              variant="light"
              color="orange"
              onClick={() => onAsk({ node, action: 'decommission' })}
              aria-label={`Decommission ${node.node}`}
            >
              Decommission
            </Button>
          )}
          {node.lifecycle === 'leaving' && (
            <Button
              size="xs"
              variant="light"
              color="indigo"
              onClick={() => onAsk({ node, action: 'cancel' })}
              aria-label={`Cancel the decommission of ${node.node}`}
            >
              Cancel decommission
            </Button>
          )}
          {node.lifecycle === 'removed' && (
            <Button
              size="xs"
              variant="light"
              color="teal"
              onClick={() => onAsk({ node, action: 'reactivate' })}
              aria-label={`Reactivate ${node.node}`}
            >
              Reactivate
            </Button>
          )}
        </Group>
      </Group>
      {node.decommission && <DecommissionBar d={node.decommission} />}
    </Box>
  );
}

/** nodes.onLifecycle: every storage node's lifecycle, decommission progress, and the scale-up form. */
export function LifecyclePanel({ live }: { live: { nodes: StorageNodeView[] | undefined; error: { message: string } | null } }) {
  const [ask, setAsk] = useState<Ask | null>(null);
  const nodes = live.nodes;
  const activeCount = nodes?.filter((n) => n.lifecycle === 'active').length ?? 0;
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="lifecycle-title" data-testid="lifecycle-panel">
      <Title order={3} fz="md" id="lifecycle-title" mb={4}>
        Storage nodes
      </Title>
      <Text size="xs" c="dimmed" mb="xs">
        joining → active → leaving (decommission: emptied under the migration caps) → removed.
      </Text>
      {!nodes ? (
        live.error ? (
          <ErrorState title="The lifecycle stream failed" error={live.error} />
        ) : (
          <Loading label="Loading the storage nodes…" />
        )
      ) : (
        <Stack gap="md">
          <Box role="list" aria-label="Storage nodes and their lifecycle">
            {nodes.map((n, i) => (
              <NodeRow key={n.node} node={n} first={i === 0} onAsk={setAsk} />
            ))}
          </Box>
          <AddNodeForm />
        </Stack>
      )}
      <ConfirmLifecycle ask={ask} onClose={() => setAsk(null)} activeCount={activeCount} />
    </Card>
  );
}
