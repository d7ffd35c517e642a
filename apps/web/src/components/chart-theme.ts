import { useComputedColorScheme } from '@mantine/core';

/** The axis, grid and tooltip colours of the current colour scheme, shared by every chart of the console. */
export function useChartTheme() {
  const dark = useComputedColorScheme('light') === 'dark';
  const axis = { stroke: dark ? '#909296' : '#868e96', fontSize: 11 };
  const grid = dark ? '#373a40' : '#e9ecef';
  const tooltipStyle = { backgroundColor: dark ? '#25262b' : '#fff', border: `1px solid ${grid}`, fontSize: 12 };
  return { axis, grid, tooltipStyle };
}

export type ChartTheme = ReturnType<typeof useChartTheme>;

/** Clock labels for a time axis: hours and minutes, and seconds only when some tick falls inside a minute. */
export function clockTickFormatter(ticks: number[]): (t: number) => string {
  const secondsMatter = ticks.some((t) => t % 60_000 !== 0);
  return (t: number) =>
    new Date(t).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
      ...(secondsMatter ? { second: '2-digit' } : {}),
    });
}
