import { Text } from '@mantine/core';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { useChartTheme } from '../../../components/chart-theme.ts';
import { formatBytes, formatClock } from '../../../lib/format.ts';
import type { CapacitySample } from '../hooks.ts';

/**
 * Cluster bytes used per recorded sample (capacity.samples), the series the planner fits its trend over.
 * Loaded on its own (React.lazy) so the charting library stays out of the first page load.
 */
const MIN_SCALE_BYTES = 1024 * 1024;

export default function UsageChart({ samples }: { samples: CapacitySample[] }) {
  const { axis, grid, tooltipStyle } = useChartTheme();
  const rows = samples.map((s) => ({ t: Date.parse(s.at), used: s.usedBytes, files: s.fileCount }));
  const spanMs = rows.length > 1 ? rows.at(-1)!.t - rows[0]!.t : 0;
  const label = (t: number) =>
    spanMs > 36 * 3600_000
      ? new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
      : new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  const last = samples.at(-1)!;
  return (
    <figure style={{ margin: 0 }} data-testid="capacity-chart" aria-label="Cluster usage over time">
      <div style={{ width: '100%', height: 160 }}>
        <ResponsiveContainer>
          <AreaChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={grid} strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={['dataMin', 'dataMax']}
              tickFormatter={label}
              tick={axis}
              minTickGap={24}
            />
            {/* At least 0-1 MiB: with nothing used yet the automatic scale ran 0 B, 1 B ... 4 B. */}
            <YAxis
              tickFormatter={(v: number) => formatBytes(v)}
              tick={axis}
              width={72}
              domain={[0, (max: number) => Math.max(max, MIN_SCALE_BYTES)]}
              allowDecimals={false}
            />
            <Tooltip
              labelFormatter={(t) => formatClock(Number(t))}
              formatter={(v) => [formatBytes(Number(v)), 'used']}
              contentStyle={tooltipStyle}
            />
            <Area
              type="linear"
              dataKey="used"
              stroke="#4c6ef5"
              fill="#4c6ef5"
              fillOpacity={0.2}
              isAnimationActive={false}
              dot={rows.length < 30}
            />
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <Text size="xs" c="dimmed" component="figcaption">
        {samples.length} {samples.length === 1 ? 'sample' : 'samples'}; latest {formatBytes(last.usedBytes)} in {last.fileCount} files on{' '}
        {last.nodeCount} nodes, of {formatBytes(last.capacityBytes)}.
      </Text>
    </figure>
  );
}
