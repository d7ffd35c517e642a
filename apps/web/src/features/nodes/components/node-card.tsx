import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

import { Fact } from '../../../components/fact.tsx';

import { formatAgo, formatNumber, formatTime } from '../../../lib/format.ts';
import { useNodeControlKind, type NodeView } from '../hooks.ts';
import { DrainControls } from './drain-controls.tsx';
import { NodeControls } from './node-controls.tsx';
import { StoreBadge } from './store-badge.tsx';

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Fact label={label} weight={500} {...(testId ? { testId } : {})}>
      {value}
    </Fact>
  );
}

function latency(n: NodeView): string {
  if (n.latencyMin === null && n.latencyAvg === null && n.latencyMax === null) return '—';
  const f = (v: number | null) => (v === null ? '—' : String(Math.round(v * 10) / 10));
  return `${f(n.latencyMin)} / ${f(n.latencyAvg)} / ${f(n.latencyMax)} ms`;
}

const MODE_COLOR: Record<string, string> = { leader: 'indigo', follower: 'gray', standalone: 'indigo', observer: 'grape' };

/** The storage role's lifecycle, when it is not plain `active`: the server itself is unaffected by it. */
const LIFECYCLE_BADGE: Record<string, { color: string; label: string }> = {
  joining: { color: 'cyan', label: 'storage joining' },
  leaving: { color: 'orange', label: 'decommissioning' },
  removed: { color: 'gray', label: 'storage removed' },
};

/** One ZooKeeper server: what it says about itself, plus zkha's drain state and file count. */
export function NodeCard({ node }: { node: NodeView }) {
  const control = useNodeControlKind();
  const controllable = control.data !== undefined && control.data.kind !== 'disabled';
  return (
    <Card withBorder shadow="xs" padding="md" data-testid={`node-card-${node.node}`} aria-label={`Node ${node.node}`} component="article">
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Title order={3} fz="lg">
            {node.node}
          </Title>
          <Group gap={6} wrap="wrap" justify="flex-end">
            <Badge color={node.up ? 'teal' : 'red'} variant="light" data-testid="node-up">
              {node.up ? 'up' : 'down'}
            </Badge>
            {node.up && (
              <Badge color={MODE_COLOR[node.mode] ?? 'gray'} variant={node.mode === 'leader' ? 'filled' : 'light'} data-testid="node-role">
                {node.mode}
              </Badge>
            )}
            <StoreBadge store={node.store} />
            {node.lifecycle && LIFECYCLE_BADGE[node.lifecycle] && (
              <Badge color={LIFECYCLE_BADGE[node.lifecycle]!.color} variant="light" data-testid="lifecycle-badge">
                {LIFECYCLE_BADGE[node.lifecycle]!.label}
              </Badge>
            )}
            {node.drained && node.lifecycle !== 'leaving' && (
              <Badge color="orange" variant="filled" data-testid="drained-badge">
                drained
              </Badge>
            )}
          </Group>
        </Group>
        {!node.up && node.error && (
          <Text size="xs" c="red">
            {node.error}
          </Text>
        )}
        <SimpleGrid cols={2} spacing="xs" verticalSpacing="xs">
          <Stat label="Latency min/avg/max" value={latency(node)} />
          <Stat label="Connections" value={formatNumber(node.connections)} />
          <Stat label="Outstanding requests" value={formatNumber(node.outstandingRequests)} />
          <Stat label="Znodes" value={formatNumber(node.znodeCount)} />
          <Stat label="Files" value={formatNumber(node.fileCount)} testId="node-file-count" />
          <Stat label="Address" value={node.host ? `${node.host}:${node.port}` : '—'} />
        </SimpleGrid>
        {node.drained && (
          <Text size="sm" data-testid="drain-reason">
            Drained {formatAgo(node.drainedSince)} ({formatTime(node.drainedSince)}): <b>{node.drainReason ?? 'no reason given'}</b>
          </Text>
        )}
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Anchor component={Link} to={`/files?node=${encodeURIComponent(node.node)}`} size="sm">
            Files on {node.node} →
          </Anchor>
          {node.lifecycle === 'leaving' || node.lifecycle === 'removed' ? (
            <Anchor component={Link} to="/migrations" size="sm" data-testid="lifecycle-link">
              {node.lifecycle === 'leaving' ? 'Decommission progress →' : 'Storage role removed: reactivate →'}
            </Anchor>
          ) : (
            <DrainControls node={node.node} drained={node.drained} />
          )}
        </Group>
        {controllable && <NodeControls node={node} />}
      </Stack>
    </Card>
  );
}
