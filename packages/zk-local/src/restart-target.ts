/** The embedded ensemble as the target of @zkha/zk's rollingRestart. */
import { memberTargets, readConfig, ZkClient, type MemberTarget, type RollingRestartTarget } from '@zkha/zk';
import type { LocalEnsemble } from './local-ensemble.ts';

/**
 * The embedded ensemble as a rolling-restart target: members from its committed config (read
 * through a short session), restarts through restartNode (SIGTERM, wait for exit, start, listen).
 */
export async function localRestartTarget(ensemble: LocalEnsemble): Promise<RollingRestartTarget> {
  const client = await ZkClient.connect(ensemble.connectionString, { connectTimeoutMs: 10_000 });
  let members: MemberTarget[];
  try {
    members = memberTargets(await readConfig(client), ensemble.nodes);
  } finally {
    await client.close();
  }
  return { members, restart: (name) => ensemble.restartNode(name) };
}
