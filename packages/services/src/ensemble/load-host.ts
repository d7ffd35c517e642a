/**
 * Host figures of each ZooKeeper server: CPU and resident memory of its process. ZooKeeper's own
 * `mntr` says nothing about them, so they come from where the server runs:
 * - the embedded default (process driver): `/proc/<pid>/stat` (utime + stime, in clock ticks) and
 *   `/proc/<pid>/status` (VmRSS) of the JVM this server started;
 * - the compose deployment (docker driver): the Docker Engine API's `GET /containers/{id}/stats`,
 *   with the CPU and memory formulas of the `docker stats` command;
 * - an external ensemble: nothing (the figures stay null and drop out of the load score).
 */
import { readFile } from 'node:fs/promises';

export interface HostFigures {
  /** % of one core over the last interval (200 = two cores busy); null on the first sample of a process. */
  cpuPercent: number | null;
  rssBytes: number | null;
  /** Where the figures came from. */
  source: 'process' | 'docker';
}

export interface HostStatsSource {
  readonly kind: 'process' | 'docker';
  /** Figures per node name for the nodes it can see; never throws (a node it cannot read is left out). */
  sample(nodes: readonly string[]): Promise<Map<string, HostFigures>>;
}

/**
 * Linux reports process CPU times in clock ticks of USER_HZ, which is 100 on every architecture the
 * kernel exposes to user space (sysconf(_SC_CLK_TCK)); Node has no sysconf binding to ask.
 */
const CLOCK_TICKS_PER_SEC = 100;

/** utime + stime (ticks) from the text of /proc/<pid>/stat; null when it does not parse. */
export function parseProcStatCpuTicks(text: string): number | null {
  // Field 2 (comm) is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After comm: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** VmRSS in bytes from the text of /proc/<pid>/status; null when absent (a zombie has none). */
export function parseProcStatusRss(text: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m?.[1] ? Number(m[1]) * 1024 : null;
}

/** CPU % of one core between two readings of a process's ticks. */
export function cpuPercentBetween(prev: { ticks: number; at: number }, cur: { ticks: number; at: number }): number | null {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0 || cur.ticks < prev.ticks) return null;
  return Math.round(((cur.ticks - prev.ticks) / CLOCK_TICKS_PER_SEC / dt) * 1000) / 10;
}

/** The JVMs of the embedded ensemble, by pid (from the launcher, which started them). */
export class ProcessHostStats implements HostStatsSource {
  readonly kind = 'process' as const;
  private readonly last = new Map<string, { pid: number; ticks: number; at: number }>();

  constructor(
    private readonly pidOf: (node: string) => number | null,
    private readonly procRoot = '/proc',
  ) {}

  async sample(nodes: readonly string[]): Promise<Map<string, HostFigures>> {
    const out = new Map<string, HostFigures>();
    await Promise.all(
      nodes.map(async (node) => {
        let pid: number | null = null;
        try {
          pid = this.pidOf(node);
        } catch {
          pid = null; // a node the launcher no longer knows
        }
        if (pid === null) {
          this.last.delete(node);
          return;
        }
        const at = Date.now();
        const [stat, status] = await Promise.all([
          readFile(`${this.procRoot}/${pid}/stat`, 'utf8').catch(() => null),
          readFile(`${this.procRoot}/${pid}/status`, 'utf8').catch(() => null),
        ]);
        if (stat === null && status === null) return;
        const ticks = stat === null ? null : parseProcStatCpuTicks(stat);
        const prev = this.last.get(node);
        // A restarted node is a new pid: its ticks start again from 0.
        const cpuPercent = ticks !== null && prev && prev.pid === pid ? cpuPercentBetween(prev, { ticks, at }) : null;
        if (ticks !== null) this.last.set(node, { pid, ticks, at });
        out.set(node, { cpuPercent, rssBytes: status === null ? null : parseProcStatusRss(status), source: 'process' });
      }),
    );
    return out;
  }
}

/**
 * The part of the Docker Engine API's `GET /containers/{id}/stats?stream=false` answer read here (API
 * v1.41 documents it as ContainerStatsResponse): `precpu_stats` is the sample one read earlier, so one
 * call gives a CPU rate. `memory_stats.stats` holds cgroup v1 (`cache`, `total_inactive_file`) or v2
 * (`inactive_file`) keys.
 */
export interface DockerStatsResponse {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/**
 * CPU % and memory of a container the way `docker stats` computes them: CPU = container time delta /
 * host time delta x online CPUs x 100 (so 100 = one core); memory = usage minus the page cache the
 * kernel can drop (`inactive_file` on cgroup v2, `total_inactive_file` on v1), which is what RSS means
 * for a process.
 */
export function dockerStatsFigures(stats: DockerStatsResponse): HostFigures {
  const cpuDelta = (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats?.online_cpus ?? stats.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1;
  const hasPrev = (stats.precpu_stats?.system_cpu_usage ?? 0) > 0;
  const cpuPercent = hasPrev && systemDelta > 0 && cpuDelta >= 0 ? Math.round((cpuDelta / systemDelta) * cpus * 1000) / 10 : null;
  const usage = stats.memory_stats?.usage;
  const s = stats.memory_stats?.stats ?? {};
  const cache = s.inactive_file ?? s.total_inactive_file ?? s.cache ?? 0;
  const rssBytes = usage === undefined ? null : Math.max(0, usage - (usage > cache ? cache : 0));
  return { cpuPercent, rssBytes, source: 'docker' };
}

/** A node-control driver that can read a container's stats (the docker driver). */
export interface ContainerStatsProvider {
  containerStats(node: string): Promise<DockerStatsResponse | null>;
}

export function hasContainerStats(x: unknown): x is ContainerStatsProvider {
  return typeof x === 'object' && x !== null && typeof (x as { containerStats?: unknown }).containerStats === 'function';
}

/** Containers of the compose deployment through the docker driver. */
export class DockerHostStats implements HostStatsSource {
  readonly kind = 'docker' as const;
  constructor(private readonly provider: ContainerStatsProvider) {}

  async sample(nodes: readonly string[]): Promise<Map<string, HostFigures>> {
    const out = new Map<string, HostFigures>();
    await Promise.all(
      nodes.map(async (node) => {
        const stats = await this.provider.containerStats(node).catch(() => null);
        if (stats) out.set(node, dockerStatsFigures(stats));
      }),
    );
    return out;
  }
}
