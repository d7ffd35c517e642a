/**
 * A candidate in its own process, for election.test.ts to SIGSTOP: joins the election at ZKHA_ROOT on ZKHA_ZK with
 * a short session, and prints `tick <isLeader>` every 50 ms and `elected` / `demoted <reason>` as they happen.
 */
import { LeaderElection } from './election.ts';
import { ZkSession } from './session.ts';

const session = await ZkSession.connect(process.env.ZKHA_ZK!, { sessionTimeout: 2000 });
const election = new LeaderElection(session, { root: process.env.ZKHA_ROOT!, id: 'child', leaseMs: 1300 });
election.on('elected', () => console.log('elected'));
election.on('demoted', (why) => console.log(`demoted ${why}`));
await election.start();
setInterval(() => console.log(`tick ${election.isLeader()}`), 50);
