import { Badge, Box, Button, Card, Group, Progress, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatBytes, formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatFraction, formatRate } from '../../migrations/format.ts';
import type { NodeLifecycle, StorageNodeView } from '../hooks.ts';
import { AddNodeForm } from './add-node-form.tsx';
import { ConfirmLifecycle, type LifecycleAsk } from './confirm-lifecycle.tsx';

export const LIFECYCLE_COLOR: Record<NodeLifecycle, string> = { joining: 'blue', active: 'teal', leaving: 'orange', removed: 'gray' };
const STORE_COLOR: Record<string, string> = { OK: 'teal', OFFLINE: 'red', SUSPECT: 'yellow' };

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

function NodeRow({ node, first, onAsk }: { node: StorageNodeView; first: boolean; onAsk: (a: LifecycleAsk) => void }) {
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
        <NodeFacts node={node} />
        <NodeActions node={node} onAsk={onAsk} />
      </Group>
      {node.decommission && <DecommissionBar d={node.decommission} />}
    </Box>
  );
}

/** Name and badges (lifecycle, origin, store), usage against capacity, and since when it is in this state. */
function NodeFacts({ node }: { node: StorageNodeView }) {
  const used = node.capacityBytes ? node.bytes / node.capacityBytes : null;
  return (
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
  );
}

/** The one lifecycle change each state allows: decommission an active node, cancel a leaving one, reactivate a removed one. */
function NodeActions({ node, onAsk }: { node: StorageNodeView; onAsk: (a: LifecycleAsk) => void }) {
  return (
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
  );
}

/** nodes.onLifecycle: every storage node's lifecycle, decommission progress, and the scale-up form. */
export function LifecyclePanel({ live }: { live: { nodes: StorageNodeView[] | undefined; error: { message: string } | null } }) {
  const [ask, setAsk] = useState<LifecycleAsk | null>(null);
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
