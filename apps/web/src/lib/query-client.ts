import { onlineManager, QueryClient } from '@tanstack/react-query';

import { reachability } from '../features/connection/reachability.ts';

/**
 * "Online" for React Query means the browser has a network and the server answers. While it does not,
 * queries pause instead of failing; when it is back, active queries refetch by themselves.
 */
export function bindOnlineManager(): void {
  onlineManager.setEventListener((setOnline) => {
    const update = () => setOnline(navigator.onLine && reachability.get());
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    const unsubscribe = reachability.subscribe(update);
    update();
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
      unsubscribe();
    };
  });
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Live views are kept fresh by subscriptions that invalidate queries; a short staleTime avoids refetch storms.
        staleTime: 2_000,
        retry: 2,
        refetchOnWindowFocus: true,
        refetchOnReconnect: true,
      },
      mutations: {
        // An operator acting while the server is away gets an error at once, not a button stuck in flight.
        networkMode: 'always',
        retry: false,
      },
    },
  });
}
