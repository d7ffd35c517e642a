import { Alert, Card, Group, SegmentedControl, SimpleGrid, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { errorMessage } from '../../../lib/notify.ts';
import { formatClock } from '../../../lib/format.ts';
import { timeTicks } from '../../workload/live-series.ts';
import { formatLoadValue } from '../format.ts';
import { LOAD_WINDOWS, type LoadHistory, type LoadSample, type LoadWindow } from '../hooks.ts';
import { bucketFor, chartStart, latestValues, pivot, type ChartRow } from '../load-series.ts';
import { ChartCard, NODE_COLORS } from '../../../components/chart-card.tsx';
import { clockTickFormatter, useChartTheme, type ChartTheme } from '../../../components/chart-theme.ts';

/**
 * Redraws at most every `ms`: a probe every 500 ms would otherwise redraw six charts twice a second. Also says
 * when the value was shown, the charts' "now" before any probe has a time of its own.
 */
function useThrottled<T>(value: T, ms: number): { value: T; at: number } {
  const [shown, setShown] = useState(() => ({ value, at: Date.now() }));
  const last = useRef(0);
  useEffect(() => {
    const show = () => {
      last.current = Date.now();
      setShown((s) => (s.value === value ? s : { value, at: last.current }));
    };
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      show();
      return;
    }
    const id = setTimeout(show, wait);
    return () => clearTimeout(id);
  }, [value, ms]);
  return shown;
}

interface Metric {
  id: string;
  title: string;
  unit: string;
  value: (s: LoadSample) => number | null;
  /** Axis labels: MiB for memory, plain numbers elsewhere. */
  scale?: number;
  axisUnit?: string;
}

const MIB = 1024 * 1024;

const METRICS: Metric[] = [
  { id: 'score', title: 'Load score (0–100)', unit: '', value: (s) => s.score },
  { id: 'requests', title: 'Requests per second', unit: 'req/s', value: (s) => s.requestsPerSec },
  { id: 'latency', title: 'Latency, average (ms)', unit: 'ms', value: (s) => s.latencyAvgMs },
  { id: 'connections', title: 'Client connections', unit: '', value: (s) => s.connections },
  { id: 'cpu', title: 'CPU of the ZooKeeper process (%)', unit: '%', value: (s) => s.cpuPercent },
  { id: 'memory', title: 'Memory of the ZooKeeper process (MiB)', unit: 'bytes', value: (s) => s.rssBytes, scale: MIB, axisUnit: 'MiB' },
];

/**
 * Every metric's rows over the window ending at the last probe (or at `shownAt` before any), bucketed to fit,
 * and each server's latest value.
 */
function buildCharts(shown: LoadHistory, shownAt: number, windowMin: LoadWindow) {
  const lastAt = Math.max(0, ...shown.nodes.map((n) => Date.parse(n.samples.at(-1)?.at ?? '') || 0));
  const firsts = shown.nodes.map((n) => Date.parse(n.samples[0]?.at ?? '')).filter((t) => !Number.isNaN(t));
  const end = lastAt || shownAt;
  const start = chartStart(firsts.length ? Math.min(...firsts) : null, end, windowMin * 60_000);
  const bucketMs = bucketFor(end - start, shown.intervalMs);
  const nodes = shown.nodes.map((n) => n.node);
  const rows: Record<string, ChartRow[]> = {};
  const now: Record<string, { node: string; value: number | null }[]> = {};
  for (const m of METRICS) {
    const value = m.scale ? (s: LoadSample) => (m.value(s) === null ? null : m.value(s)! / m.scale!) : m.value;
    rows[m.id] = pivot(shown.nodes, value, { since: start, bucketMs });
    now[m.id] = latestValues(shown.nodes, m.value);
  }
  return { start, end, nodes, rows, now, ticks: timeTicks(start, end), empty: shown.nodes.every((n) => n.samples.length === 0) };
}

type Charts = ReturnType<typeof buildCharts>;

/** The caption's "Now:" line: each server's latest value of the metric. */
function nowCaption(m: Metric, latest: { node: string; value: number | null }[]): string {
  if (!latest.length) return 'No samples yet';
  return `Now: ${latest.map((l) => `${l.node} ${m.id === 'score' ? (l.value === null ? '—' : l.value.toFixed(1)) : formatLoadValue(l.value, m.unit)}`).join(' · ')}`;
}

/** One metric's chart: a line per server over the window. */
function MetricChart({
  m,
  charts,
  tickFormatter,
  theme,
}: {
  m: Metric;
  charts: Charts | null;
  tickFormatter: (t: number) => string;
  theme: ChartTheme;
}) {
  const { axis, grid, tooltipStyle } = theme;
  const data = charts?.rows[m.id] ?? [];
  return (
    <ChartCard
      height={180}
      title={m.title}
      testId={`chart-${m.id}`}
      caption={<span data-testid={`chart-${m.id}-now`}>{nowCaption(m, charts?.now[m.id] ?? [])}</span>}
    >
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 4, right: 16, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={charts ? [charts.start, charts.end] : ['auto', 'auto']}
            ticks={charts?.ticks ?? []}
            tickFormatter={tickFormatter}
            tick={axis}
            interval={0}
          />
          <YAxis tick={axis} domain={m.id === 'score' ? [0, 100] : [0, 'auto']} allowDecimals={m.id !== 'connections'} />
          <Tooltip
            labelFormatter={(t) => formatClock(Number(t))}
            formatter={(v) =>
              typeof v === 'number'
                ? `${Math.round(v * 10) / 10}${m.axisUnit ? ` ${m.axisUnit}` : m.unit && m.unit !== 'bytes' ? ` ${m.unit}` : ''}`
                : String(v)
            }
            contentStyle={tooltipStyle}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {(charts?.nodes ?? []).map((n, i) => (
            <Line
              key={n}
              type="monotone"
              dataKey={n}
              stroke={NODE_COLORS[i % NODE_COLORS.length]}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              connectNulls={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/** The title, what the charts are drawn from, and the window switch. */
function LoadChartsHeader({
  shown,
  windowMin,
  onWindow,
}: {
  shown: LoadHistory | undefined;
  windowMin: LoadWindow;
  onWindow: (w: LoadWindow) => void;
}) {
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <div>
        <Title order={3} fz="md">
          Load over time
        </Title>
        <Text size="xs" c="dimmed">
          From every probe{shown ? ` (every ${shown.intervalMs / 1000} s)` : ''}, kept for {shown?.minutes ?? 60} minutes; live.
        </Text>
      </div>
      <SegmentedControl
        size="xs"
        value={String(windowMin)}
        onChange={(v) => onWindow(Number(v) as LoadWindow)}
        data={LOAD_WINDOWS.map((w) => ({ value: String(w), label: `${w} min` }))}
        aria-label="Chart window"
      />
    </Group>
  );
}

/**
 * Six charts over the chosen window, one line per server: load score, requests/s, latency, connections, CPU
 * and memory of each ZooKeeper process. Loaded on its own (React.lazy): the charting library is the page's
 * heaviest dependency.
 */
export default function LoadCharts({ history, error }: { history: LoadHistory | undefined; error: unknown }) {
  const [windowMin, setWindowMin] = useState<LoadWindow>(5);
  const { value: shown, at: shownAt } = useThrottled(history, 2_000);
  const theme = useChartTheme();
  const charts = useMemo(() => (shown ? buildCharts(shown, shownAt, windowMin) : null), [shown, shownAt, windowMin]);
  const header = <LoadChartsHeader shown={shown} windowMin={windowMin} onWindow={setWindowMin} />;

  if (error && !history) {
    return (
      <Card withBorder padding="md" component="section" aria-label="Load over time">
        {header}
        <Alert color="red" title="Could not load the load history" role="alert" mt="sm">
          {errorMessage(error)}
        </Alert>
      </Card>
    );
  }

  const tickFormatter = clockTickFormatter(charts?.ticks ?? []);
  return (
    <Card withBorder padding="md" component="section" aria-label="Load over time" data-testid="load-charts">
      {header}
      {charts?.empty && (
        <Text size="sm" c="dimmed" mt="sm">
          Waiting for the first probes…
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="md" mt="sm">
        {METRICS.map((m) => (
          <MetricChart key={m.id} m={m} charts={charts} tickFormatter={tickFormatter} theme={theme} />
        ))}
      </SimpleGrid>
    </Card>
  );
}
