import { SimpleGrid } from '@mantine/core';
import type { ReactElement } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { ChartCard, NODE_COLORS } from '../../../components/chart-card.tsx';
import { clockTickFormatter, useChartTheme, type ChartTheme } from '../../../components/chart-theme.ts';
import { formatBytes, formatClock } from '../../../lib/format.ts';
import { formatGap } from '../../scheduler/format.ts';
import { useNow, useSeries } from '../hooks.ts';
import { BUCKET_MS, chartRows } from '../live-series.ts';

type Rows = ReturnType<typeof chartRows>;

/** Each node's file count as a step line. */
function FilesChart({ files, nodes, xAxis, theme }: { files: Rows['files']; nodes: string[]; xAxis: ReactElement; theme: ChartTheme }) {
  const { axis, grid, tooltipStyle } = theme;
  // The caption names the nodes of the latest plan only: a node removed within the window keeps its line, not a "now".
  const last = files.at(-1);
  return (
    <ChartCard
      height={200}
      title="Files per node"
      testId="chart-files"
      caption={
        <span data-testid="chart-files-now">
          {last
            ? `Now: ${nodes
                .filter((n) => last[n] !== undefined)
                .map((n) => `${n} ${last[n]}`)
                .join(' · ')}`
            : 'Waiting for the first plan…'}
        </span>
      }
    >
      <ResponsiveContainer>
        <LineChart data={files} margin={{ top: 4, right: 20, bottom: 0, left: -20 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          {xAxis}
          <YAxis allowDecimals={false} tick={axis} />
          <Tooltip labelFormatter={(t) => formatClock(Number(t))} contentStyle={tooltipStyle} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {nodes.map((n, i) => (
            <Line
              key={n}
              type="stepAfter"
              dataKey={n}
              stroke={NODE_COLORS[i % NODE_COLORS.length]}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/** The spread between nodes against the threshold, in the unit of the latest plan. */
function SpreadChart({ delta, unit, xAxis, theme }: { delta: Rows['delta']; unit: Rows['unit']; xAxis: ReactElement; theme: ChartTheme }) {
  const { axis, grid, tooltipStyle } = theme;
  const lastDelta = delta.at(-1);
  const spreadTick = unit === 'bytes' ? (v: number) => formatBytes(v) : undefined;
  return (
    <ChartCard
      height={200}
      title="Spread vs threshold"
      testId="chart-delta"
      caption={
        <span data-testid="chart-delta-now">
          {lastDelta && lastDelta.delta !== null && unit
            ? `Now: spread ${formatGap(unit, lastDelta.delta)}, threshold ${formatGap(unit, lastDelta.threshold)}`
            : 'Waiting for the first plan…'}
        </span>
      }
    >
      <ResponsiveContainer>
        <LineChart data={delta} margin={{ top: 4, right: 20, bottom: 0, left: -20 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          {xAxis}
          <YAxis allowDecimals={unit !== 'files'} tick={axis} tickFormatter={spreadTick} width={unit === 'bytes' ? 80 : 60} />
          <Tooltip
            labelFormatter={(t) => formatClock(Number(t))}
            formatter={(v) => (unit && typeof v === 'number' ? formatGap(unit, v) : String(v))}
            contentStyle={tooltipStyle}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line type="stepAfter" dataKey="delta" name="spread" stroke="#4c6ef5" strokeWidth={2} dot={false} isAnimationActive={false} />
          {/* The threshold only changes through the settings: bridge points rebuilt from the log, which lack it. */}
          <Line
            type="stepAfter"
            dataKey="threshold"
            name="threshold"
            stroke="#fa5252"
            strokeDasharray="6 4"
            strokeWidth={2}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/** Moves per bucket, automatic and manual stacked; its axis starts one bucket early so the first bar shows whole. */
function MigrationsChart({
  buckets,
  start,
  now,
  ticks,
  tickFormatter,
  theme,
}: {
  buckets: Rows['buckets'];
  start: number;
  now: number;
  ticks: number[];
  tickFormatter: (t: number) => string;
  theme: ChartTheme;
}) {
  const { axis, grid, tooltipStyle } = theme;
  const automatic = buckets.reduce((s, b) => s + b.automatic, 0);
  const manual = buckets.reduce((s, b) => s + b.manual, 0);
  const minutes = Math.max(1, Math.round((now - start) / 60_000));
  return (
    <ChartCard
      height={200}
      title={`Migrations per ${BUCKET_MS / 1000} s`}
      testId="chart-migrations"
      caption={
        <span data-testid="chart-migrations-total" data-automatic={automatic} data-manual={manual}>
          {automatic + manual} {automatic + manual === 1 ? 'move' : 'moves'} in the last {minutes} min: {automatic} automatic, {manual}{' '}
          manual
        </span>
      }
    >
      <ResponsiveContainer>
        <BarChart data={buckets} margin={{ top: 4, right: 20, bottom: 0, left: -20 }}>
          <CartesianGrid stroke={grid} strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={[start - BUCKET_MS, now]}
            ticks={ticks}
            tickFormatter={tickFormatter}
            tick={axis}
            interval={0}
          />
          <YAxis allowDecimals={false} tick={axis} />
          <Tooltip labelFormatter={(t) => `from ${formatClock(Number(t))}`} contentStyle={tooltipStyle} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="automatic" name="automatic (auto_migrate)" stackId="moves" fill="#12b886" isAnimationActive={false} />
          <Bar dataKey="manual" name="manual (migrate)" stackId="moves" fill="#fab005" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/**
 * Files per node, the spread against the threshold (in the strategy's unit), and moves per 10 s (automatic and
 * manual, every move of every batch), over the last five minutes.
 * Loaded on its own (React.lazy) so the charting library is not part of the first page load.
 */
export default function LiveCharts() {
  const series = useSeries();
  const now = useNow(2_000);
  const { start, files, delta, unit, nodes, buckets, ticks } = chartRows(series, now);
  const theme = useChartTheme();
  const domain: [number, number] = [start, now];
  const tickFormatter = clockTickFormatter(ticks);
  const xAxis = (
    <XAxis
      dataKey="t"
      type="number"
      scale="time"
      domain={domain}
      ticks={ticks}
      tickFormatter={tickFormatter}
      tick={theme.axis}
      interval={0}
    />
  );

  return (
    <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md" data-testid="live-charts">
      <FilesChart files={files} nodes={nodes} xAxis={xAxis} theme={theme} />
      <SpreadChart delta={delta} unit={unit} xAxis={xAxis} theme={theme} />
      <MigrationsChart buckets={buckets} start={start} now={now} ticks={ticks} tickFormatter={tickFormatter} theme={theme} />
    </SimpleGrid>
  );
}
