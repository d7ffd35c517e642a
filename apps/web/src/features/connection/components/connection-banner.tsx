import { Alert, Loader } from '@mantine/core';

import { useConnectionLost } from '../hooks.ts';

/** Shown while the server is unreachable; disappears by itself when the event streams reconnect. */
export function ConnectionBanner() {
  const lost = useConnectionLost();
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
      Live data is paused. The page reconnects and catches up on its own when the server is back.
    </Alert>
  );
}
