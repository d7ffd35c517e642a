import { Badge, Card, Code, Group, Progress, ScrollArea, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { Fragment, useState } from 'react';

import { Fact } from '../../../components/fact.tsx';
import { ErrorState } from '../../../components/query-state.tsx';
import { ExpandToggle } from '../../../components/expand-toggle.tsx';
import { formatBytes, formatNumber } from '../../../lib/format.ts';
import { formatLoadValue, formatScore, formatShare, scoreColor } from '../format.ts';
import type { LoadConfig, LoadView, NodeLoad } from '../hooks.ts';

const MODE_COLOR: Record<string, string> = { leader: 'indigo', follower: 'gray', observer: 'grape', standalone: 'indigo' };

function unitOf(config: LoadConfig, key: string): string {
  return config.components.find((c) => c.key === key)?.unit ?? '';
}

/** The score as a number and a bar; its colour follows the scaling thresholds. */
function ScoreCell({ score, thresholds }: { score: number | null; thresholds?: { up: number; down: number } | undefined }) {
  const color = scoreColor(score, thresholds?.up, thresholds?.down);
  return (
    <Stack gap={2} miw={72}>
      <Text fw={700} size="sm" data-testid="load-score">
        {formatScore(score)}
      </Text>
      <Progress value={score ?? 0} color={color} size="sm" aria-label={`Load score ${formatScore(score)} of 100`} />
    </Stack>
  );
}

/** One component of a server's score: the value, and the share of its reference (what enters the mean). */
function ComponentCell({ node, config, keyName }: { node: NodeLoad; config: LoadConfig; keyName: string }) {
  const c = node.load.components.find((x) => x.key === keyName);
  if (!c) return <Table.Td>—</Table.Td>;
  return (
    <Table.Td data-testid={`load-${keyName}`} style={{ whiteSpace: 'nowrap' }}>
      <Text size="sm">{formatLoadValue(c.value, unitOf(config, c.key))}</Text>
      <Text
        size="xs"
        c="dimmed"
        title={`${formatLoadValue(c.value, unitOf(config, c.key))} of ${formatLoadValue(c.reference, unitOf(config, c.key))}, weight ${c.weight}`}
      >
        {c.normalised === null ? 'unknown: left out' : `${formatShare(c.normalised)} of ref`}
      </Text>
    </Table.Td>
  );
}

/** The figures of a sample that do not enter the score: shown when a server's row is expanded. */
function SampleDetails({ node }: { node: NodeLoad }) {
  const s = node.sample;
  if (!s)
    return (
      <Text size="sm" c="dimmed">
        No sample yet.
      </Text>
    );
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v * 10) / 10} ms`);
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs" verticalSpacing="xs">
      <Fact weight={500} label="Latency avg / max / p99">
        {ms(s.latencyAvgMs)} / {ms(s.latencyMaxMs)} / {ms(s.latencyP99Ms)}
      </Fact>
      <Fact weight={500} label="Outstanding requests">
        {formatNumber(s.outstandingRequests)}
      </Fact>
      <Fact weight={500} label="Connections">
        {formatNumber(s.connections)}
      </Fact>
      <Fact weight={500} label="Znodes">
        {formatNumber(s.znodeCount)}
      </Fact>
      <Fact weight={500} label="Watches">
        {formatNumber(s.watchCount)}
      </Fact>
      <Fact weight={500} label="Data size">
        {s.approximateDataSizeBytes === null ? '—' : formatBytes(s.approximateDataSizeBytes)}
      </Fact>
      <Fact weight={500} label="Open file descriptors">
        {formatNumber(s.openFileDescriptors)}
        {s.maxFileDescriptors !== null ? ` of ${s.maxFileDescriptors.toLocaleString()}` : ''}
      </Fact>
      <Fact weight={500} label="CPU / memory from">
        {s.hostSource === 'process' ? 'the JVM’s /proc entries' : s.hostSource === 'docker' ? 'the container’s stats' : 'not measured'}
      </Fact>
    </SimpleGrid>
  );
}

function NodeRow({
  node,
  config,
  thresholds,
  cols,
}: {
  node: NodeLoad;
  config: LoadConfig;
  thresholds?: { up: number; down: number } | undefined;
  cols: number;
}) {
  const [open, setOpen] = useState(false);
  const s = node.sample;
  const detailsId = `load-details-${node.node}`;
  return (
    <Fragment>
      <Table.Tr data-testid="load-row" data-node={node.node} data-up={s?.up ?? false}>
        <Table.Td>
          <Group gap={6} wrap="nowrap">
            <ExpandToggle open={open} controls={detailsId} what={`the figures of ${node.node}`} onToggle={() => setOpen((o) => !o)} />
            <Text fw={600} size="sm">
              {node.node}
            </Text>
            {s && !s.up ? (
              <Badge color="red" variant="light" size="sm" style={{ flexShrink: 0 }}>
                down
              </Badge>
            ) : s ? (
              <Badge
                color={MODE_COLOR[s.mode] ?? 'gray'}
                variant={s.mode === 'leader' ? 'filled' : 'light'}
                size="sm"
                style={{ flexShrink: 0 }}
                data-testid="load-mode"
              >
                {s.mode}
              </Badge>
            ) : null}
          </Group>
        </Table.Td>
        <Table.Td>
          <ScoreCell score={node.load.score} thresholds={thresholds} />
        </Table.Td>
        {config.components.map((c) => (
          <ComponentCell key={c.key} node={node} config={config} keyName={c.key} />
        ))}
      </Table.Tr>
      {open && (
        <Table.Tr id={detailsId}>
          <Table.Td colSpan={cols}>
            <SampleDetails node={node} />
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

const COMPONENT_HEADERS: Record<string, string> = { requests: 'Requests', latency: 'Latency', cpu: 'CPU', memory: 'Memory', disk: 'Data' };

/** The formula exactly as the server computes it, and each component's reference and weight. */
function Formula({ config }: { config: LoadConfig }) {
  return (
    <Stack gap="xs" data-testid="load-formula">
      <Text size="sm">
        Each component is its value divided by a reference (the figure that counts as fully loaded), clamped to 0–1; the score is their
        weighted mean × 100. A component nobody can measure is left out rather than counted as idle.
      </Text>
      <Code block fz="xs" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }} data-testid="load-formula-text">
        {config.formula}
      </Code>
      <ScrollArea type="auto">
        <Table fz="xs" withTableBorder miw={480} aria-label="Load score components, references and weights" data-testid="load-weights">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Component</Table.Th>
              <Table.Th>Measures</Table.Th>
              <Table.Th>Reference (= 100 %)</Table.Th>
              <Table.Th>Weight</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {config.components.map((c) => (
              <Table.Tr key={c.key} data-testid="load-weight" data-component={c.key}>
                <Table.Td>{c.key}</Table.Td>
                <Table.Td>{c.label}</Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatLoadValue(c.reference, c.unit)}</Table.Td>
                <Table.Td>{c.weight}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Stack>
  );
}

/** ensemble.load: the score of every server with its components, the ensemble's score, and the formula behind them. */
export function LoadCard({
  view,
  error,
  thresholds,
}: {
  view: LoadView | undefined;
  error: unknown;
  thresholds?: { up: number; down: number } | undefined;
}) {
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="load-title" data-testid="load-card">
      <Group justify="space-between" align="flex-start" mb="xs" wrap="wrap" gap="xs">
        <div>
          <Title order={3} fz="md" id="load-title">
            Load
          </Title>
          <Text size="xs" c="dimmed">
            Per server, from every probe; 0 is idle, 100 fully loaded.
          </Text>
        </div>
        {view && (
          <Group gap="xs" data-testid="ensemble-load">
            <Badge
              size="lg"
              variant="light"
              color={scoreColor(view.ensemble.score, thresholds?.up, thresholds?.down)}
              data-testid="ensemble-score"
            >
              ensemble {formatScore(view.ensemble.score)}
            </Badge>
            <Text size="xs" c="dimmed">
              busiest {formatScore(view.ensemble.max)} · {formatLoadValue(view.ensemble.requestsPerSec, 'req/s')} ·{' '}
              {formatNumber(view.ensemble.connections)} connections
            </Text>
          </Group>
        )}
      </Group>
      {error ? (
        <ErrorState title="Could not load the load figures" error={error} />
      ) : !view ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading the load figures">
          <Skeleton height={32} />
          <Skeleton height={32} />
          <Skeleton height={32} />
        </Stack>
      ) : (
        <Stack gap="md">
          <ScrollArea type="auto">
            <Table fz="sm" verticalSpacing="xs" miw={680} aria-label="Load per server" data-testid="load-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Server</Table.Th>
                  <Table.Th>Score</Table.Th>
                  {view.config.components.map((c) => (
                    <Table.Th key={c.key} title={c.label}>
                      {COMPONENT_HEADERS[c.key] ?? c.key}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {view.nodes.map((n) => (
                  <NodeRow key={n.node} node={n} config={view.config} thresholds={thresholds} cols={2 + view.config.components.length} />
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          <Formula config={view.config} />
        </Stack>
      )}
    </Card>
  );
}
