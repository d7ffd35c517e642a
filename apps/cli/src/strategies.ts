import type { RouterInputs } from '@zkha/sdk/client';

/** Core's StrategyName, as the API takes it (through the SDK's types: the CLI loads no zod at start-up). */
export type StrategyName = NonNullable<NonNullable<RouterInputs['migrations']['plan']>['strategy']>;

/**
 * What each strategy balances. Keyed by core's StrategyName, so a strategy added to core fails this build until
 * it is described here; the `--strategy` choices come from these keys.
 */
export const STRATEGY_HELP: Record<StrategyName, string> = {
  count: 'files per node (threshold in files)',
  bytes: 'bytes per node (threshold in average-sized files)',
  utilization: 'percent of each node’s capacity (threshold in points)',
  weighted: 'files per unit of each node’s weight (threshold in files per weight)',
};

export const STRATEGIES = Object.keys(STRATEGY_HELP) as StrategyName[];

/** "count: files per node (…); bytes: …", for option help. */
export const strategiesHelp = (): string => STRATEGIES.map((s) => `${s}: ${STRATEGY_HELP[s]}`).join('; ');
