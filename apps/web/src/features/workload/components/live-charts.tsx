import { SimpleGrid, useComputedColorScheme } from '@mantine/core';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { ChartCard, NODE_COLORS } from '../../../components/chart-card.tsx';
import { formatBytes, formatClock } from '../../../lib/format.ts';
import { formatGap } from '../../scheduler/format.ts';
import { useNow, useSeries } from '../hooks.ts';
import { BUCKET_MS, chartRows } from '../live-series.ts';

/**
 * Files per node, the spread against the threshold (in the strategy's unit), and moves per 10 s (automatic and
 * manual, every move of every batch), over the last five minutes.
 * Loaded on its own (React.lazy) so the charting library is not part of the first page load.
 */
export default function LiveCharts() {
  const series = useSeries();
  const now = useNow(2_000);
  const { start, files, delta, unit, nodes, buckets, ticks } = chartRows(series, now);
  const dark = useComputedColorScheme('light') === 'dark';
  const axis = { stroke: dark ? '#909296' : '#868e96', fontSize: 11 };
  const grid = dark ? '#373a40' : '#e9ecef';
  const domain: [number, number] = [start, now];
  const tooltipStyle = { backgroundColor: dark ? '#25262b' : '#fff', border: `1px solid ${grid}`, fontSize: 12 };
  // The caption names the nodes of the latest plan only: a node removed within the window keeps its line, not a "now".
  const last = files.at(-1);
  const lastDelta = delta.at(-1);
  const automatic = buckets.reduce((s, b) => s + b.automatic, 0);
  const manual = buckets.reduce((s, b) => s + b.manual, 0);
  const minutes = Math.max(1, Math.round((now - start) / 60_000));
  const spreadTick = unit === 'bytes' ? (v: number) => formatBytes(v) : undefined;
  const secondsMatter = ticks.some((t) => t % 60_000 !== 0);
  // Compact 24-hour labels: three charts side by side leave little room per tick.
  const hhmm = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
      ...(secondsMatter ? { second: '2-digit' } : {}),
    });
  const xAxis = (
    <XAxis dataKey="t" type="number" scale="time" domain={domain} ticks={ticks} tickFormatter={hhmm} tick={axis} interval={0} />
  );

  return (
    <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md" data-testid="live-charts">
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
              tickFormatter={hhmm}
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
    </SimpleGrid>
  );
}
