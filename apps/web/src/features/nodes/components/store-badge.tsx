import { Badge, Tooltip } from '@mantine/core';

import { formatAgo, formatTime } from '../../../lib/format.ts';
import type { NodeView } from '../hooks.ts';

const STORE_COLOR = { OK: 'teal', OFFLINE: 'red', SUSPECT: 'yellow' } as const;

/** The storage agent's liveness (OK / OFFLINE / SUSPECT), its reason and since when in a tooltip. */
export function StoreBadge({ store }: { store: NodeView['store'] }) {
  if (!store) return null;
  const label = `${store.reason ?? 'no reason recorded'} · since ${formatTime(store.lastChange)} (${formatAgo(store.lastChange)})`;
  return (
    <Tooltip label={label} multiline maw={320} withArrow>
      <Badge
        color={STORE_COLOR[store.status] ?? 'gray'}
        variant={store.status === 'OK' ? 'outline' : 'filled'}
        data-testid="store-status"
        data-status={store.status}
        aria-label={`Store ${store.status}: ${store.reason ?? 'no reason recorded'}`}
        tabIndex={0}
      >
        store {store.status}
      </Badge>
    </Tooltip>
  );
}
