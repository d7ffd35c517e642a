/** What startLocalEnsemble takes, and the same with every default filled in and java and the jars found. */
import { randomBytes } from 'node:crypto';
import { DEFAULT_JAVA_OPTS, findJava, findZooKeeperClasspath } from './java-install.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';

export interface StartLocalEnsembleOptions {
  nodes: EnsembleNodeSpec[];
  /** Data of node <name> lives in <dataDir>/<name>. */
  dataDir: string;
  /** Logs of node <name> go to <logsDir>/<name>/. */
  logsDir: string;
  /** An Apache ZooKeeper install (tarball layout). Default: $ZK_HOME, then Debian's /usr/share/java. */
  zkHome?: string;
  /** Address every port binds to and clients connect to. Default 127.0.0.1. */
  host?: string;
  /** ZooKeeper tickTime in ms. Default 2000 (min session timeout = 2 ticks). */
  tickTime?: number;
  /** How long startLocalEnsemble waits for a leader + followers. Default 30000. */
  quorumTimeoutMs?: number;
  /** JVM flags; replaces DEFAULT_JAVA_OPTS when given (so e.g. a different GC does not clash). */
  javaOpts?: string[];
  /** Extra zoo.cfg keys, written last (e.g. `{ forceSync: 'no' }` for throwaway test data). */
  extraConfig?: Record<string, string | number | boolean>;
  /**
   * Dynamic membership (ZooKeeper >= 3.5 `reconfigEnabled=true`, `standaloneEnabled=false`, membership in a
   * separate `dynamicConfigFile`), so servers can be added and removed while the ensemble serves.
   * Default: on for 2+ nodes; a one-node ensemble stays standalone unless this is true (standalone mode
   * cannot be reconfigured, a one-member quorum can grow).
   */
  reconfig?: boolean;
  /**
   * Password of ZooKeeper's built-in `super` user (the JVMs get only its SHA-1 digest). Reconfig is an
   * ACL-checked write to /zookeeper/config, so it needs it. Default: random per launch, which is enough
   * because every JVM of the ensemble is (re)started by this launcher; read it back from `superAuth`.
   */
  superPassword?: string;
}

export interface ResolvedOptions {
  host: string;
  tickTime: number;
  quorumTimeoutMs: number;
  javaOpts: readonly string[];
  java: string;
  classpath: string;
  extraConfig: Record<string, string | number | boolean>;
  reconfig: boolean;
  superPassword: string;
}

/** Fills in the defaults; throws NOT_SUPPORTED when java or the ZooKeeper jars cannot be found. */
export function resolveOptions(opts: StartLocalEnsembleOptions): ResolvedOptions {
  return {
    host: opts.host ?? '127.0.0.1',
    tickTime: opts.tickTime ?? 2000,
    quorumTimeoutMs: opts.quorumTimeoutMs ?? 30_000,
    javaOpts: opts.javaOpts ?? DEFAULT_JAVA_OPTS,
    java: findJava(),
    classpath: findZooKeeperClasspath(opts.zkHome),
    extraConfig: opts.extraConfig ?? {},
    reconfig: opts.reconfig ?? opts.nodes.length > 1,
    superPassword: opts.superPassword ?? randomBytes(18).toString('base64url'),
  };
}
