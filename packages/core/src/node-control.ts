/** Node control: one port, several drivers (local processes, Docker). Pure types and pure reasoning only. */

export type NodeAction = 'stop' | 'start' | 'restart' | 'kill';
export const NODE_ACTIONS: readonly NodeAction[] = ['stop', 'start', 'restart', 'kill'];

export interface NodeRuntimeStatus {
  node: string;
  state: 'running' | 'stopped' | 'starting' | 'unknown';
  pid: number | null;
  containerId: string | null;
  detail: string | null;
  exitCode: number | null;
}

export interface NodeController {
  readonly kind: 'process' | 'docker' | 'disabled';
  status(node: string): Promise<NodeRuntimeStatus>;
  stop(node: string): Promise<void>;
  start(node: string): Promise<void>;
  restart(node: string): Promise<void>;
  /** SIGKILL, for failure drills. */
  kill(node: string): Promise<void>;
}

export interface QuorumImpact {
  node: string;
  action: NodeAction;
  serving: number;
  size: number;
  servingAfter: number;
  quorum: number;
  keepsQuorum: boolean;
  message: string;
}

/**
 * What an action does to the ensemble's majority, in the words the confirmation dialog shows:
 * "stopping zk2 leaves 2 of 3: quorum kept" / "stopping zk1 now loses quorum: writes will stop".
 * A restart is judged like a stop, since the node is away while it restarts.
 */
export function quorumImpact(node: string, action: NodeAction, servers: readonly { node: string; up: boolean }[]): QuorumImpact {
  const size = servers.length;
  const quorum = Math.floor(size / 2) + 1;
  const serving = servers.filter((s) => s.up).length;
  const target = servers.find((s) => s.node === node);
  const away = action !== 'start' && (target?.up ?? false) ? 1 : 0;
  const back = action === 'start' && !(target?.up ?? true) ? 1 : 0;
  const servingAfter = serving - away + back;
  const keepsQuorum = servingAfter >= quorum;
  const verb = { stop: 'stopping', start: 'starting', restart: 'restarting', kill: 'killing' }[action];
  let message: string;
  if (action === 'start') {
    message = `${verb} ${node} brings ${servingAfter} of ${size} back${keepsQuorum ? (serving >= quorum ? ': quorum kept' : ': quorum restored') : `: still short of quorum (${quorum} needed)`}`;
  } else if (keepsQuorum) {
    message = `${verb} ${node} leaves ${servingAfter} of ${size}: quorum kept`;
  } else if (serving >= quorum) {
    message = `${verb} ${node} now loses quorum: writes will stop`;
  } else {
    message = `${verb} ${node} leaves ${servingAfter} of ${size}: quorum is already lost (${quorum} needed)`;
  }
  if (action === 'restart' && !keepsQuorum && serving >= quorum) message += ' until it is back';
  return { node, action, serving, size, servingAfter, quorum, keepsQuorum, message };
}
