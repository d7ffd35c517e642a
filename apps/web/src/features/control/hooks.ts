import { useQuery } from '@tanstack/react-query';

import { useTRPC, type RouterOutputs } from '../../lib/trpc.ts';

export type ControlStatus = RouterOutputs['control']['status'];

/** How often the instances are looked at again: a takeover shows within this (plus the session timeout). */
const CONTROL_REFRESH_MS = 2_000;

/** The zkha instances on this ensemble, which one leads and the last takeovers (polled: there is no stream). */
export function useControlStatus() {
  const trpc = useTRPC();
  return useQuery({ ...trpc.control.status.queryOptions(), refetchInterval: CONTROL_REFRESH_MS });
}
