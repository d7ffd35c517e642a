import { Center, Loader } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, type ReactNode } from 'react';

import { LoginPage } from '../../../pages/login/login-page.tsx';
import { authStore } from '../auth-store.ts';
import { useAuthState } from '../hooks.ts';

/**
 * Shows the console once the server has said who we are, and the login page whenever it says "nobody"
 * (at start, or on any 401 later). With no tokens on the server this is one request and then the console.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const state = useAuthState();
  const queryClient = useQueryClient();
  const wasIn = useRef(false);

  useEffect(() => {
    void authStore.check();
  }, []);

  useEffect(() => {
    // Leaving a session must not leave its data on screen for the next person at the keyboard.
    if (state.status === 'signed-out' && wasIn.current) queryClient.clear();
    wasIn.current = state.status === 'signed-in' || state.status === 'unknown';
  }, [state.status, queryClient]);

  if (state.status === 'checking') {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (state.status === 'signed-out') return <LoginPage message={state.message} />;
  return <>{children}</>;
}
