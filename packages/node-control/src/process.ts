import { assertKnownNode, type NodeController, type NodeRuntimeStatus } from '@zkha/core';
import type { LocalEnsemble } from '@zkha/zk-local';

/** Something that lives and dies with a node: its storage agent. */
export interface NodeCompanion {
  start(node: string): void;
  stop(node: string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Whether this node has a companion at all: servers added to the ensemble while running have none. */
  has?(node: string): boolean;
}

/**
 * The embedded default's driver: the ZooKeeper JVMs this server started, and each node's storage agent,
 * which goes down with its node (and comes back with it) so liveness reflects what an operator did.
 * The node list is the launcher's at the time of use, so servers added or removed by a membership
 * change (ensemble scaling) are known at once; those have no storage agent.
 */
export class ProcessNodeController implements NodeController {
  readonly kind = 'process' as const;

  constructor(
    private readonly ensemble: LocalEnsemble,
    private readonly companion?: NodeCompanion,
  ) {}

  private get nodes(): string[] {
    return this.ensemble.nodes.map((n) => n.name);
  }

  private companionOf(node: string): NodeCompanion | null {
    const c = this.companion;
    return c && (c.has ? c.has(node) : true) ? c : null;
  }

  async status(node: string): Promise<NodeRuntimeStatus> {
    assertKnownNode(this.nodes, node);
    const running = this.ensemble.isRunning(node);
    return {
      node,
      state: running ? 'running' : 'stopped',
      pid: running ? (this.ensemble.pid(node) ?? null) : null,
      containerId: null,
      detail: running ? 'ZooKeeper process running' : 'ZooKeeper process stopped',
      exitCode: null,
    };
  }

  async stop(node: string): Promise<void> {
    assertKnownNode(this.nodes, node);
    await this.companionOf(node)?.stop(node, 'SIGTERM');
    await this.ensemble.stopNode(node);
  }

  async start(node: string): Promise<void> {
    assertKnownNode(this.nodes, node);
    if (!this.ensemble.isRunning(node)) await this.ensemble.startNode(node);
    this.companionOf(node)?.start(node);
  }

  async restart(node: string): Promise<void> {
    await this.stop(node);
    await this.start(node);
  }

  /** SIGKILL the JVM and its agent together, as a machine failure would. */
  async kill(node: string): Promise<void> {
    assertKnownNode(this.nodes, node);
    await Promise.all([this.companionOf(node)?.stop(node, 'SIGKILL'), this.ensemble.killNode(node, 'SIGKILL')]);
  }
}
