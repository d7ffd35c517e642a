import { afterEach, describe, expect, it, vi } from 'vitest';

import { reachability } from './reachability.ts';

afterEach(() => {
  reachability.reportReachable();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('reachability', () => {
  it('flips on reports and tells subscribers once per change', () => {
    const seen: boolean[] = [];
    const off = reachability.subscribe(() => seen.push(reachability.get()));
    reachability.reportLost({ probe: false });
    reachability.reportLost({ probe: false });
    reachability.reportReachable();
    off();
    reachability.reportLost({ probe: false });
    expect(seen).toEqual([false, true]);
  });

  it('after an HTTP failure, probes /healthz until the server answers', async () => {
    vi.useFakeTimers();
    const fetchMock = vi
      .fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValue(new Response('{}', { status: 503 }));
    vi.stubGlobal('fetch', fetchMock);
    reachability.reportLost({ probe: true });
    expect(reachability.get()).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reachability.get()).toBe(false); // first probe failed
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reachability.get()).toBe(true); // any HTTP answer, even 503, means the server is there
    expect(fetchMock).toHaveBeenCalledWith('/healthz', { cache: 'no-store' });
  });
});
