import path from 'node:path';
import { ElasticsearchLogStore } from './elasticsearch-store.ts';
import { SqliteLogStore } from './sqlite-store.ts';
import type { LogStore } from './types.ts';

export interface LogStoreConfig {
  /** `ELASTICSEARCH_URL`: when set, logs go to Elasticsearch instead of the embedded SQLite file. */
  elasticsearchUrl?: string;
  /** Default 'zkha-logs'. */
  elasticsearchIndex?: string;
  elasticsearchApiKey?: string;
  /** The embedded store's file. Default data/logs.db. */
  sqlitePath?: string;
}

/**
 * The configured `LogStore`: Elasticsearch when a URL is given, else the embedded SQLite store. The
 * server's zod config reads the environment and passes the values here.
 */
export function createLogStore(config: LogStoreConfig = {}): LogStore {
  if (config.elasticsearchUrl) {
    return new ElasticsearchLogStore({
      url: config.elasticsearchUrl,
      ...(config.elasticsearchIndex ? { index: config.elasticsearchIndex } : {}),
      ...(config.elasticsearchApiKey ? { apiKey: config.elasticsearchApiKey } : {}),
    });
  }
  return new SqliteLogStore({ path: config.sqlitePath ?? path.resolve('data', 'logs.db') });
}
