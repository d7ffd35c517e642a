import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { RouterProvider } from 'react-router';

import { AuthGate } from './features/auth/components/auth-gate.tsx';
import { bindOnlineManager, createQueryClient } from './lib/query-client.ts';
import { createClient, TRPCProvider } from './lib/trpc.ts';
import { router } from './routes.tsx';

const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});

bindOnlineManager();

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createClient);
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <Notifications position="bottom-right" limit={4} />
      <QueryClientProvider client={queryClient}>
        <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
          <AuthGate>
            <RouterProvider router={router} />
          </AuthGate>
        </TRPCProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
