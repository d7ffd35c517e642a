import { AppError, assertKnownNode, type NodeController, type NodeRuntimeStatus } from '@zkha/core';

export const DOCKER_CONTROL_DISABLED_MESSAGE =
  'node control through Docker is disabled: set DOCKER_CONTROL_ENABLED=true and mount the Docker socket ' +
  '(docker compose -f docker/docker-compose.yml -f docker/docker-compose.control.yml up -d)';

export interface DisabledNodeControllerOptions {
  /** The managed node names; when given, other names get NODE_NOT_FOUND rather than NOT_SUPPORTED. */
  nodes?: readonly string[];
  /** Replaces the default message (which names DOCKER_CONTROL_ENABLED). */
  message?: string;
}

/**
 * What the server wires in when DOCKER_CONTROL_ENABLED is false: every action fails with
 * AppError('NOT_SUPPORTED') saying how to enable it. `status` is a query, so it answers instead of
 * throwing: state 'unknown' with the same reason in `detail`, so a node list can still be shown.
 */
export class DisabledNodeController implements NodeController {
  readonly kind = 'disabled' as const;
  private readonly nodes: ReadonlySet<string> | null;
  private readonly message: string;

  constructor(opts: DisabledNodeControllerOptions = {}) {
    this.nodes = opts.nodes ? new Set(opts.nodes) : null;
    this.message = opts.message ?? DOCKER_CONTROL_DISABLED_MESSAGE;
  }

  async status(node: string): Promise<NodeRuntimeStatus> {
    this.check(node);
    return { node, state: 'unknown', pid: null, containerId: null, detail: this.message, exitCode: null };
  }

  stop(node: string): Promise<void> {
    return this.refuse(node, 'stop');
  }

  start(node: string): Promise<void> {
    return this.refuse(node, 'start');
  }

  restart(node: string): Promise<void> {
    return this.refuse(node, 'restart');
  }

  kill(node: string): Promise<void> {
    return this.refuse(node, 'kill');
  }

  private check(node: string): void {
    if (this.nodes) assertKnownNode([...this.nodes], node);
  }

  private async refuse(node: string, action: string): Promise<void> {
    this.check(node);
    throw new AppError('NOT_SUPPORTED', this.message, { node, action });
  }
}
