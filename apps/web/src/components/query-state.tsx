import { Alert, Center, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { errorMessage } from '../lib/notify.ts';

/** The loading, error and empty states every view shows the same way. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl">
      <Stack align="center" gap="xs">
        <Loader size="sm" aria-label={label} />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Stack>
    </Center>
  );
}

export function ErrorState({ title = 'Could not load', error }: { title?: string; error: unknown }) {
  return (
    <Alert color="red" title={title} role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Center py="xl" data-testid="empty-state">
      <Text c="dimmed" size="sm">
        {children}
      </Text>
    </Center>
  );
}
