import { Alert, Loader } from '@mantine/core';
import { useEffect } from 'react';

import { useControlStatus } from '../../control/hooks.ts';
import { pickFallback } from '../fallback.ts';
import { useConnectionLost } from '../hooks.ts';

/** How long the console waits for its own instance before it goes to another one it knows of. */
const FALLBACK_AFTER_MS = 5_000;

/**
 * Shown while the server is unreachable; disappears by itself when the event streams reconnect. With several zkha
 * instances, a console whose instance stays silent goes on to another one it knew of (from the last control status).
 */
export function ConnectionBanner() {
  const lost = useConnectionLost();
  // Kept fresh on every page: when the instance dies, its last answer is what the console knows of the others.
  const known = useControlStatus().data;
  const target = lost && known ? pickFallback(known.instances, window.location.origin) : null;
  useEffect(() => {
    if (!target) return;
    const timer = setTimeout(
      () => window.location.assign(`${target}${window.location.pathname}${window.location.search}`),
      FALLBACK_AFTER_MS,
    );
    return () => clearTimeout(timer);
  }, [target]);
  if (!lost) return null;
  return (
    <Alert
      role="alert"
      data-testid="connection-banner"
      color="orange"
      variant="filled"
      radius={0}
      icon={<Loader size="xs" color="white" />}
      title="Connection to the server lost — retrying…"
    >
      {target
        ? `Live data is paused. Unless this instance answers within ${FALLBACK_AFTER_MS / 1000} s, the console moves to another zkha instance: ${target}.`
        : 'Live data is paused. The page reconnects and catches up on its own when the server is back.'}
    </Alert>
  );
}
