import { createTheme, DEFAULT_THEME, MantineProvider, type CSSVariablesResolver } from '@mantine/core';
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
  // Filled badges and buttons pick black or white text by their background's luminance (WCAG contrast); the
  // primary colour one shade darker, so white on it passes too.
  autoContrast: true,
  luminanceThreshold: 0.2,
  primaryShade: { light: 7, dark: 8 },
});

/**
 * Contrast (WCAG AA, 4.5:1 for text, checked by axe in the e2e run). Mantine's light scheme writes dimmed text
 * in gray 6 (3.3:1 on white), links in the primary shade, light badges, buttons and alerts in shade 9 on shade 1
 * of their colour and outline ones in the primary shade; all move to darker shades. The dark scheme's defaults
 * already pass.
 */
// Shade 9 itself stays just under 4.5:1 on its tint for teal, and well under for the bright hues.
const BLACK_MIX: Record<string, number> = { yellow: 45, orange: 40, lime: 40 };
const onTint = (c: string) => `color-mix(in srgb, var(--mantine-color-${c}-9) ${100 - (BLACK_MIX[c] ?? 15)}%, black)`;

const contrast: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-anchor': 'var(--mantine-color-indigo-8)',
    ...Object.fromEntries(
      Object.keys(DEFAULT_THEME.colors).flatMap((c) => [
        [`--mantine-color-${c}-light-color`, onTint(c)],
        [`--mantine-color-${c}-outline`, onTint(c)],
      ]),
    ),
  },
  dark: {},
});

bindOnlineManager();

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createClient);
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" cssVariablesResolver={contrast}>
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
