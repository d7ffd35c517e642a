/**
 * Whether the server answers, as the transport sees it: every tRPC answer or SSE (re)connection says yes,
 * a failed fetch or a dropped event stream says no. React Query's onlineManager is fed from here (and from
 * the browser's own online/offline events), so queries pause while the server is gone and refetch when it
 * is back, and the banner reads one flag.
 */
type Listener = () => void;

let reachable = true;
const listeners = new Set<Listener>();
let probeTimer: ReturnType<typeof setTimeout> | null = null;

/** How often a lost connection is re-checked when no event stream is around to notice the server's return. */
const PROBE_INTERVAL_MS = 2_000;

function set(next: boolean): void {
  if (next === reachable) return;
  reachable = next;
  for (const l of listeners) l();
}

export const reachability = {
  get(): boolean {
    return reachable;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** The server answered (any HTTP answer, or an event stream connected). */
  reportReachable(): void {
    stopProbe();
    set(true);
  },
  /**
   * The server did not answer. `probe` asks /healthz until it does: an HTTP failure alone may come from a
   * moment when no event stream is reconnecting, and nothing else would ever say the server is back.
   */
  reportLost(opts: { probe: boolean }): void {
    set(false);
    if (opts.probe) startProbe();
  },
};

function startProbe(): void {
  if (probeTimer !== null || typeof fetch === 'undefined') return;
  const tick = () => {
    fetch('/healthz', { cache: 'no-store' })
      .then(() => {
        probeTimer = null;
        reachability.reportReachable();
      })
      .catch(() => {
        probeTimer = setTimeout(tick, PROBE_INTERVAL_MS);
      });
  };
  probeTimer = setTimeout(tick, PROBE_INTERVAL_MS);
}

function stopProbe(): void {
  if (probeTimer !== null) clearTimeout(probeTimer);
  probeTimer = null;
}
