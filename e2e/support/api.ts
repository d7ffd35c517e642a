import type { APIRequestContext } from '@playwright/test';

/** Seeds and checks state through the server's own API (REST /api and tRPC over HTTP), never the database. */
export class Api {
  constructor(private readonly request: APIRequestContext) {}

  private async json<T>(res: Awaited<ReturnType<APIRequestContext['get']>>): Promise<T> {
    if (!res.ok()) throw new Error(`${res.url()} → ${res.status()}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  async overview() {
    return this.json<{
      nodes: { node: string; up: boolean; mode: string; drained: boolean; drainReason: string | null; fileCount: number }[];
      cluster: { leader: string | null; quorum: boolean; upCount: number; size: number };
      totals: { files: number };
    }>(await this.request.get('/api/overview'));
  }

  async diagnostics() {
    return this.json<{
      counts: Record<string, number>;
      sourceNode: string | null;
      targetNode: string | null;
      drainedNodes: string[];
      /** The spread (max − min) in `unit`. */
      delta: number;
      threshold: number;
      thresholdInUnit: number;
      unit: 'files' | 'files_per_weight' | 'bytes' | 'percent';
      totalFiles: number;
      shouldMigrate: boolean;
      moves: number;
      balanced: boolean;
      reason: string;
      message: string;
      nodes: { node: string; role: 'source' | 'target' | 'neither'; code: string; files: number; value: number | null }[];
    }>(await this.request.get('/api/scheduler/diagnostics'));
  }

  async filesTotal(node?: string): Promise<number> {
    const res = await this.json<{ total: number }>(await this.request.get(`/api/files?limit=1${node ? `&node=${node}` : ''}`));
    return res.total;
  }

  /** The newest files (of one node), as the REST API lists them. */
  async files(node?: string) {
    const res = await this.json<{ items: { uuid: string; name: string; node: string }[] }>(
      await this.request.get(`/api/files?limit=500${node ? `&node=${node}` : ''}`),
    );
    return res.items;
  }

  async stress(body: { node: string; files: number; size_kb?: number; trigger_scheduler?: boolean }) {
    return this.json<{ created: number; counts: Record<string, number> }>(
      await this.request.post('/api/demo/stress', { data: { size_kb: 4, ...body } }),
    );
  }

  async drain(node: string, reason: string) {
    return this.json(await this.request.post(`/api/nodes/${node}/drain`, { data: { reason } }));
  }

  async undrain(node: string) {
    return this.json(await this.request.post(`/api/nodes/${node}/undrain`));
  }

  async operations(query: Record<string, string | number> = {}) {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    return this.json<{ items: { id: number; action: string; node: string | null; details: Record<string, unknown> }[]; total: number }>(
      await this.request.get(`/api/operations${qs ? `?${qs}` : ''}`),
    );
  }

  /** A tRPC mutation over HTTP (no transformer: the body is the input). */
  async mutation<T>(path: string, input?: unknown): Promise<T> {
    const res = await this.request.post(`/trpc/${path}`, { data: input ?? {} });
    const body = await this.json<{ result: { data: T } }>(res);
    return body.result.data;
  }

  /** A tRPC query over HTTP (no transformer: the input travels as JSON in the query string). */
  async query<T>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const body = await this.json<{ result: { data: T } }>(await this.request.get(`/trpc/${path}${qs}`));
    return body.result.data;
  }
}
