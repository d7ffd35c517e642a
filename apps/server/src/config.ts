/**
 * Configuration from the environment through one zod schema. A bad value stops start-up with a message that
 * names the variable and what it accepts, rather than failing later in some unrelated place.
 */
import { z } from 'zod';

import {
  DEFAULT_HIGH_WATERMARK,
  DEFAULT_LOAD_SCORE_CONFIG,
  LIMITS,
  SCHEDULER_MODES,
  STRATEGY_NAMES,
  DEFAULT_SCALING_POLICY,
  NODE_NAME_PATTERN,
  parseLoadComponentList,
  type LoadScoreReferences,
  type LoadScoreWeights,
} from '@zkha/core';
import { TOKEN_NAME_PATTERN } from '@zkha/db';

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'accepts true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `accepts a whole number from ${min} to ${max}` })
    .int(`accepts a whole number from ${min} to ${max}`)
    .min(min, `accepts a whole number from ${min} to ${max}`)
    .max(max, `accepts a whole number from ${min} to ${max}`)
    .default(def);

const num = (def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `accepts a number from ${min} to ${max}` })
    .min(min, `accepts a number from ${min} to ${max}`)
    .max(max, `accepts a number from ${min} to ${max}`)
    .default(def);

const port = (def: number) => int(def, 1, 65535);

export interface ZkNodeAddress {
  name: string;
  host: string;
  port: number;
}

/** `ZK_NODES=host:port,...` or `name=host:port,...`; unnamed nodes are called zk1, zk2... in order. */
const zkNodes = z
  .string()
  .trim()
  .optional()
  .transform((raw, ctx): ZkNodeAddress[] | null => {
    if (raw === undefined || raw === '') return null;
    const out: ZkNodeAddress[] = [];
    for (const [i, part] of raw.split(',').entries()) {
      const m = /^(?:([a-z][a-z0-9_-]{0,31})=)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(part.trim());
      const p = m ? Number(m[3]) : 0;
      if (!m || p < 1 || p > 65535) {
        ctx.addIssue({ code: 'custom', message: `accepts host:port or name=host:port, comma-separated (bad entry "${part}")` });
        return z.NEVER;
      }
      out.push({ name: m[1] ?? `zk${i + 1}`, host: m[2]!, port: p });
    }
    if (new Set(out.map((n) => n.name)).size !== out.length) {
      ctx.addIssue({ code: 'custom', message: 'accepts distinct node names' });
      return z.NEVER;
    }
    return out;
  });

const nodeNames = z
  .string()
  .default('zk1,zk2,zk3')
  .transform((raw, ctx) => {
    const names = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length < 1 || names.length > 9 || names.some((n) => !NODE_NAME_PATTERN.test(n)) || new Set(names).size !== names.length) {
      ctx.addIssue({ code: 'custom', message: 'accepts 1 to 9 distinct names like zk1,zk2,zk3' });
      return z.NEVER;
    }
    return names;
  });

export interface ConfiguredToken {
  name: string;
  role: 'viewer' | 'operator';
  secret: string;
}

/** Configured secrets must not be guessable: at least this long (`zkha token create` makes 48-character ones). */
const MIN_SECRET_LENGTH = 16;

/** `API_TOKENS=name:role:secret,...`; the secret is everything after the second colon. */
const apiTokens = z
  .string()
  .optional()
  .transform((raw, ctx): ConfiguredToken[] => {
    if (raw === undefined || raw.trim() === '') return [];
    const out: ConfiguredToken[] = [];
    for (const [i, part] of raw.split(',').entries()) {
      const [name = '', role = '', ...rest] = part.trim().split(':');
      const secret = rest.join(':');
      // Never echo the entry: it holds a secret.
      if (!TOKEN_NAME_PATTERN.test(name) || (role !== 'viewer' && role !== 'operator') || secret.length < MIN_SECRET_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          message: `accepts name:viewer|operator:secret entries, comma-separated, with secrets of at least ${MIN_SECRET_LENGTH} characters (entry ${i + 1} is not one)`,
        });
        return z.NEVER;
      }
      out.push({ name, role, secret });
    }
    if (new Set(out.map((t) => t.name)).size !== out.length) {
      ctx.addIssue({ code: 'custom', message: 'accepts distinct token names' });
      return z.NEVER;
    }
    return out;
  });

/** `TRUSTED_ORIGINS=https://zkha.example.com,...`: origins other than the server's own that may send browser mutations. */
const origins = z
  .string()
  .optional()
  .transform((raw, ctx): string[] => {
    const list = (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const o of list) {
      let ok = false;
      try {
        const u = new URL(o);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: `accepts origins like https://zkha.example.com, comma-separated (bad entry "${o}")` });
        return z.NEVER;
      }
    }
    return list.map((o) => o.replace(/\/$/, ''));
  });

/** What ZK_AUTH holds: ZooKeeper digest credentials for zkha's znodes, or `none` to leave them open. */
export interface ZkAuthCredentials {
  user: string;
  password: string;
}

/** Same floor as API tokens: a ZooKeeper digest is a salt-less SHA-1, a short password falls to a guess. */
const MIN_ZK_PASSWORD_LENGTH = 16;
export const ZK_USER_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `user:password` (the password is everything after the first colon); null when it is not one. */
export function parseZkCredentials(raw: string): ZkAuthCredentials | null {
  const at = raw.indexOf(':');
  if (at < 0) return null;
  const user = raw.slice(0, at);
  const password = raw.slice(at + 1);
  if (!ZK_USER_PATTERN.test(user) || password.length < MIN_ZK_PASSWORD_LENGTH || password.trim() !== password) return null;
  return { user, password };
}

/**
 * `ZK_AUTH=user:password`, `none`, or unset (null: the embedded ensemble generates credentials into
 * ZK_AUTH_FILE; an external one refuses to start, see zk-auth.ts). An empty value counts as unset.
 */
const zkAuth = z
  .string()
  .optional()
  .transform((raw, ctx): ZkAuthCredentials | 'none' | null => {
    if (raw === undefined || raw === '') return null;
    if (raw.trim() === 'none') return 'none';
    const creds = parseZkCredentials(raw);
    if (!creds) {
      // Never echo the value: it holds a password.
      ctx.addIssue({
        code: 'custom',
        message: `accepts user:password (user of letters, digits, _ . -; password of at least ${MIN_ZK_PASSWORD_LENGTH} characters) or none`,
      });
      return z.NEVER;
    }
    return creds;
  });

/**
 * `LOAD_SCORE_WEIGHTS=requests:1,latency:2,...` / `LOAD_SCORE_REFERENCES=requests:2000,...`: components left
 * out keep their defaults (equal weights; references in DEFAULT_LOAD_SCORE_CONFIG).
 */
const loadComponents = <T extends LoadScoreWeights | LoadScoreReferences>(defaults: T, positive: boolean) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      try {
        return { ...defaults, ...parseLoadComponentList(raw ?? '', { min: 0, positive }) };
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `accepts component:number pairs, comma-separated (${err instanceof Error ? err.message : String(err)})`,
        });
        return z.NEVER;
      }
    });

/** The embedded default's storage node capacity: small enough that a demo's uploads show on utilization and the planner. */
export const DEMO_NODE_CAPACITY_BYTES = 1024 ** 3;
const MIN_NODE_CAPACITY_BYTES = 1024 ** 2;
const BYTE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** `1073741824`, `1GiB`, `512 MiB`, `1.5TiB` → bytes (whole, at least 1 MiB); null when it is not one. */
export function parseNodeCapacity(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?$/.exec(raw.trim());
  if (!m) return null;
  const bytes = Math.round(Number(m[1]) * BYTE_UNITS[m[2] ?? '']!);
  return Number.isSafeInteger(bytes) && bytes >= MIN_NODE_CAPACITY_BYTES ? bytes : null;
}
const CAPACITY_WORDS = 'bytes of at least 1 MiB, as a number or with a unit (1073741824, 1GiB, 512MiB)';

/**
 * `STORAGE_NODE_CAPACITY=<bytes>|none`: every storage node's capacity unless overridden. Unset (undefined here)
 * it is resolved below: DEMO_NODE_CAPACITY_BYTES on the embedded ensemble, none with ZK_NODES.
 */
const nodeCapacity = z
  .string()
  .optional()
  .transform((raw, ctx): number | 'none' | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    if (raw.trim() === 'none') return 'none';
    const bytes = parseNodeCapacity(raw);
    if (bytes === null) {
      ctx.addIssue({ code: 'custom', message: `accepts ${CAPACITY_WORDS}, or none` });
      return z.NEVER;
    }
    return bytes;
  });

/** `STORAGE_NODE_CAPACITIES=zk1:2GiB,zk2:1073741824`: per-node overrides of STORAGE_NODE_CAPACITY. */
const nodeCapacities = z
  .string()
  .optional()
  .transform((raw, ctx): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const part of (raw ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = part.indexOf(':');
      const node = at < 0 ? '' : part.slice(0, at).trim();
      const bytes = at < 0 ? null : parseNodeCapacity(part.slice(at + 1));
      if (!NODE_NAME_PATTERN.test(node) || bytes === null) {
        ctx.addIssue({
          code: 'custom',
          message: `accepts node:capacity pairs, comma-separated, with capacities in ${CAPACITY_WORDS} (bad entry "${part}")`,
        });
        return z.NEVER;
      }
      if (node in out) {
        ctx.addIssue({ code: 'custom', message: `accepts each node once (${node} is given twice)` });
        return z.NEVER;
      }
      out[node] = bytes;
    }
    return out;
  });

const ZEnvSchema = z.object({
  ZK_NODES: zkNodes,
  ZK_NODE_NAMES: nodeNames,
  ZK_HOME: z.string().optional(),
  ZK_DATA_DIR: z.string().default('data/zk'),
  ZK_CLIENT_PORT_BASE: port(2181),
  ZK_QUORUM_PORT_BASE: port(2888),
  ZK_ELECTION_PORT_BASE: port(3888),
  ZK_ADMIN_PORT_BASE: port(8181),
  ZK_SESSION_TIMEOUT: int(10_000, 4_000, 60_000),
  ZK_PROBE_INTERVAL_MS: int(1_000, 200, 60_000),
  // Digest credentials for zkha's znodes under /zkha (see the README's Security section and zk-auth.ts).
  ZK_AUTH: zkAuth,
  ZK_AUTH_FILE: z.string().trim().min(1).optional(),
  LOGS_DIR: z.string().default('logs'),
  AGENTS_ENABLED: bool(true),
  // The storage agents' bearer token (the agents take it as ZKHA_AGENT_TOKEN); see the README's "Storage nodes on other hosts".
  AGENT_TOKEN: z.string().trim().min(16, 'takes a secret of 16+ characters').regex(/^\S+$/, 'takes a secret without whitespace').optional(),
  AGENT_TOKEN_FILE: z.string().trim().min(1).optional(),
  AGENT_SESSION_TIMEOUT: int(4_000, 2_000, 60_000),
  AGENT_HEARTBEAT_MS: int(2_000, 100, 60_000),
  AGENT_RESTART_DELAY_MS: int(5_000, 0, 600_000),
  LIVENESS_RECONCILE_INTERVAL: num(30, 1, 86_400),
  FILE_STORAGE_PATH: z.string().default('data/uploads'),
  DATABASE_PATH: z.string().default('data/zkha.db'),
  LOG_STORE_PATH: z.string().default('data/logs.db'),
  ELASTICSEARCH_URL: z.url({ error: 'accepts an http(s) URL' }).optional(),
  ELASTICSEARCH_INDEX: z.string().default('zkha-logs'),
  LOG_RETENTION_DAYS: num(7, 0.01, 3650),
  LOG_RETENTION_MAX_ROWS: int(1_000_000, 1_000, 100_000_000),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(8080),
  // Several instances on one ensemble (see the README's "A highly available control plane"): each one's name in
  // the election (default <hostname>:<PORT>), and the URL the others forward mutations to (default http://HOST:PORT).
  INSTANCE_ID: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .regex(/^[\w.:@-]+$/, 'takes letters, digits and . : @ _ -')
    .optional(),
  ADVERTISE_URL: z.url({ error: 'accepts an http(s) URL where the other instances reach this one' }).optional(),
  // Where browsers reach this instance, when not at ADVERTISE_URL (behind a published port, a proxy): a console
  // whose instance stops answering moves to another instance's CONSOLE_URL.
  CONSOLE_URL: z.url({ error: 'accepts an http(s) URL where browsers reach this instance' }).optional(),
  AUTO_SCHEDULER_ENABLED: bool(true),
  AUTO_SCHEDULER_INTERVAL: num(15, LIMITS.minIntervalSec, LIMITS.maxIntervalSec),
  SCHEDULER_THRESHOLD: int(5, 1, LIMITS.maxThreshold),
  SCHEDULER_MODE: z.enum(SCHEDULER_MODES, { error: `accepts ${SCHEDULER_MODES.join(' or ')}` }).default('whole_plan'),
  SCHEDULER_STRATEGY: z.enum(STRATEGY_NAMES, { error: `accepts ${STRATEGY_NAMES.join(', ')}` }).default('count'),
  SCHEDULER_HIGH_WATERMARK: num(DEFAULT_HIGH_WATERMARK, 0.01, 1),
  MIGRATION_MAX_CONCURRENT: int(4, 1, 64),
  MIGRATION_MAX_PER_NODE_IN: int(2, 1, 64),
  MIGRATION_MAX_PER_NODE_OUT: int(2, 1, 64),
  MIGRATION_BANDWIDTH_BYTES_PER_SEC: z.coerce
    .number({ error: 'accepts bytes per second (>= 1024), or leave unset for no cap' })
    .int()
    .min(1024, 'accepts bytes per second (>= 1024)')
    .optional(),
  MIGRATION_ADAPTIVE: bool(false),
  CAPACITY_SAMPLE_INTERVAL: int(60, 1, 86_400),
  CAPACITY_TARGET_UTILIZATION: num(0.7, 0.05, 1),
  CAPACITY_BAND: num(0.1, 0, 0.9),
  // Each storage node's capacity, enforced on puts and moves (see the README's "Storage node lifecycle and capacity planning").
  STORAGE_NODE_CAPACITY: nodeCapacity,
  STORAGE_NODE_CAPACITIES: nodeCapacities,
  // Replaced by STORAGE_NODE_CAPACITY, whose meaning differs (every node's enforced capacity, not a fallback for
  // nodes whose agent reports none): set, it stops start-up rather than be silently ignored or reinterpreted.
  NODE_CAPACITY_BYTES: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.trim() === '', {
      error:
        "is no longer read: set STORAGE_NODE_CAPACITY (every node's capacity, enforced on uploads and moves) and STORAGE_NODE_CAPACITIES (per node) instead",
    })
    .transform(() => undefined),
  MIGRATION_POLICY: z
    .enum(['priority', 'deadline', 'importance'], { error: 'accepts priority, deadline or importance' })
    .default('priority'),
  UPLOAD_MAX_BYTES: int(256 * 1024 * 1024, 1, 16 * 1024 * 1024 * 1024),
  DEMO_WORKLOAD_ENABLED: bool(true),
  DEMO_WORKLOAD_INTERVAL: num(20, 1, 86_400),
  DEMO_WORKLOAD_MAX_FILES: int(300, 0, 100_000),
  DEMO_WORKLOAD_MAX_BYTES: int(256 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024),
  DEMO_WORKLOAD_MIN_SIZE_KB: int(4, 1, 16_384),
  DEMO_WORKLOAD_MAX_SIZE_KB: int(256, 1, 16_384),
  DEMO_WORKLOAD_EXTRA_CLIENTS: int(2, 0, 100),
  DOCKER_CONTROL_ENABLED: bool(false),
  DOCKER_SOCKET: z.string().optional(),
  COMPOSE_PROJECT: z.string().optional(),
  // Access control (see the README's Security section).
  API_TOKENS: apiTokens,
  READ_ONLY: bool(false),
  // Development only: tRPC error answers carry the server's stack trace (absolute paths included). Off, no
  // answer carries one.
  ERROR_STACKS: bool(false),
  SESSION_TTL_HOURS: num(12, 0.01, 720),
  RATE_LIMIT_WORK_PER_MINUTE: int(60, 0, 100_000),
  TRUSTED_ORIGINS: origins,
  // ZooKeeper ensemble scaling (see the README's "Ensemble scaling").
  LOAD_SCORE_WEIGHTS: loadComponents(DEFAULT_LOAD_SCORE_CONFIG.weights, false),
  LOAD_SCORE_REFERENCES: loadComponents(DEFAULT_LOAD_SCORE_CONFIG.references, true),
  LOAD_HISTORY_MINUTES: int(60, 1, 1_440),
  SCALING_AUTO: bool(DEFAULT_SCALING_POLICY.auto),
  SCALING_UP_THRESHOLD: num(DEFAULT_SCALING_POLICY.upThreshold, 0, 100),
  SCALING_DOWN_THRESHOLD: num(DEFAULT_SCALING_POLICY.downThreshold, 0, 100),
  SCALING_FOR_MINUTES: int(DEFAULT_SCALING_POLICY.forMinutes, 1, 1_440),
  SCALING_COOLDOWN_MINUTES: int(DEFAULT_SCALING_POLICY.cooldownMinutes, 0, 10_080),
  SCALING_MIN_VOTERS: int(DEFAULT_SCALING_POLICY.minVoters, 3, 9),
  SCALING_MAX_VOTERS: int(DEFAULT_SCALING_POLICY.maxVoters, 3, 9),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'accepts fatal, error, warn, info, debug, trace or silent',
    })
    .default('info'),
});

export const ZConfigSchema = ZEnvSchema.transform(({ NODE_CAPACITY_BYTES: _replaced, ...c }) => ({
  ...c,
  /** Bytes, or null for none configured (each node is then bounded only by its own filesystem, if it has one). */
  STORAGE_NODE_CAPACITY:
    c.STORAGE_NODE_CAPACITY === 'none' ? null : (c.STORAGE_NODE_CAPACITY ?? (c.ZK_NODES === null ? DEMO_NODE_CAPACITY_BYTES : null)),
}));

export type AppConfig = z.output<typeof ZConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Variables whose values must never be printed, not even in an error about them. */
const SECRET_KEYS = new Set(['API_TOKENS', 'ZK_AUTH']);

/** Parses the environment; throws ConfigError listing every bad variable with what it accepts. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const result = ZConfigSchema.safeParse(env);
  if (!result.success) {
    const shown = (key: string) => (SECRET_KEYS.has(key) ? '"(hidden)"' : JSON.stringify(env[key] ?? ''));
    const lines = result.error.issues.map((i) => `  ${String(i.path[0] ?? '?')}=${shown(String(i.path[0]))}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = result.data;
  if (cfg.DEMO_WORKLOAD_MIN_SIZE_KB > cfg.DEMO_WORKLOAD_MAX_SIZE_KB) {
    throw new ConfigError('invalid configuration:\n  DEMO_WORKLOAD_MIN_SIZE_KB: accepts a value no larger than DEMO_WORKLOAD_MAX_SIZE_KB');
  }
  if (cfg.SCALING_DOWN_THRESHOLD >= cfg.SCALING_UP_THRESHOLD) {
    throw new ConfigError('invalid configuration:\n  SCALING_DOWN_THRESHOLD: accepts a value below SCALING_UP_THRESHOLD');
  }
  if (cfg.SCALING_MIN_VOTERS > cfg.SCALING_MAX_VOTERS) {
    throw new ConfigError('invalid configuration:\n  SCALING_MIN_VOTERS: accepts a value no larger than SCALING_MAX_VOTERS');
  }
  return cfg;
}
