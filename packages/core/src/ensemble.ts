/**
 * ZooKeeper ensemble membership rules, pure: quorum arithmetic, the guards a membership change
 * must pass before anyone runs `reconfig`, and the order of a rolling restart.
 *
 * The guards exist because ZooKeeper itself accepts changes that are legal but unwise: it will
 * shrink to 2 voters (no failure tolerated any more) or grow to 4 (same tolerance as 3, one more
 * server to wait for on every write).
 */
import { AppError } from './errors.ts';

/** A server's role in the dynamic config: voting `participant` or non-voting `observer`. */
export type ServerRole = 'participant' | 'observer';

export interface MemberState {
  id: number;
  role: ServerRole;
  /** Serving and in sync right now, when known. Used to tell whether the new config can reach its quorum. */
  up?: boolean;
  /** The current leader, when known. */
  leader?: boolean;
}

export interface QuorumFigures {
  voters: number;
  observers: number;
  /** Votes a write needs: a strict majority of the voters. */
  quorum: number;
  /** Voters that may fail while writes go on. */
  tolerates: number;
}

/** Strict majority of `voters` (0 for none). */
export function quorumSize(voters: number): number {
  return voters <= 0 ? 0 : Math.floor(voters / 2) + 1;
}

export function quorumFigures(members: readonly Pick<MemberState, 'role'>[]): QuorumFigures {
  const voters = members.filter((m) => m.role === 'participant').length;
  const quorum = quorumSize(voters);
  return { voters, observers: members.length - voters, quorum, tolerates: Math.max(0, voters - quorum) };
}

export interface MembershipChange {
  /** Servers to add, or existing ones to give another role (observer <-> participant). */
  add?: readonly { id: number; role: ServerRole }[];
  /** Ids of servers to remove. */
  remove?: readonly number[];
}

export interface MembershipGuardOptions {
  /** Fewest voters a change may leave (default 3: the smallest ensemble that survives a failure). */
  minVoters?: number;
  /** Most voters a change may leave (e.g. 7 for the automatic mode); default no limit. */
  maxVoters?: number;
}

export interface MembershipChangeCheck {
  before: QuorumFigures;
  after: QuorumFigures;
  /** The membership after the change, sorted by id (up/leader flags kept for the servers that stay). */
  members: MemberState[];
  /** False when the change must not run (see `problems`). */
  allowed: boolean;
  /** An even number of voters after the change: legal, but it needs the operator's explicit yes. */
  needsConfirmation: boolean;
  /** Why it is refused. */
  problems: string[];
  /**
   * The gravest kind of problem: `invalid` (the change makes no sense: unknown id, no-op...), `guard`
   * (legal for ZooKeeper, refused by policy), `no_quorum` (the servers that are up cannot carry it).
   */
  refusal: 'invalid' | 'guard' | 'no_quorum' | null;
  /** Worth showing, not blocking. */
  warnings: string[];
  /** One line for the UI: "3 → 4 voters, quorum 2 → 3, tolerates 1 → 1 failure". */
  summary: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * What a membership change does to the quorum, and whether it may run:
 * - refused: fewer than `minVoters` voters after it (unless it grows the voter count, the only way
 *   out of a too-small ensemble), more than `maxVoters`, unknown ids, no-ops, an id both added and
 *   removed, or (when liveness is known) a new config whose quorum is not up;
 * - needs confirmation: an even number of voters after it (4 tolerate no more failures than 3).
 */
export function checkMembershipChange(
  current: readonly MemberState[],
  change: MembershipChange,
  opts: MembershipGuardOptions = {},
): MembershipChangeCheck {
  const adds = change.add ?? [];
  const removes = change.remove ?? [];
  const invalid = invalidChanges(current, adds, removes);
  const removed = new Set(removes);
  const members = membersAfter(current, adds, removed);

  const before = quorumFigures(current);
  const afterFigures = quorumFigures(members);
  const { refused, warnings, needsConfirmation } = voterGuards(before, afterFigures, opts);
  const unreachable = unreachableQuorums(current, members, before, afterFigures);
  const leader = current.find((m) => m.leader);
  if (leader && (removed.has(leader.id) || adds.some((a) => a.id === leader.id && a.role === 'observer'))) {
    warnings.push(`server ${leader.id} is the leader: the change makes the ensemble elect another one`);
  }

  const summary =
    `${before.voters} → ${plural(afterFigures.voters, 'voter')}` +
    (before.observers || afterFigures.observers ? ` (+${afterFigures.observers} observer${afterFigures.observers === 1 ? '' : 's'})` : '') +
    `, quorum ${before.quorum} → ${afterFigures.quorum}, tolerates ${before.tolerates} → ${plural(afterFigures.tolerates, 'failure')}`;

  const problems = [...invalid, ...unreachable, ...refused];
  return {
    before,
    after: afterFigures,
    members,
    allowed: problems.length === 0,
    refusal: invalid.length ? 'invalid' : unreachable.length ? 'no_quorum' : refused.length ? 'guard' : null,
    needsConfirmation,
    problems,
    warnings,
    summary,
  };
}

/** Why the change makes no sense as given: nothing to change, ids out of range or twice, no-ops, unknown members. */
function invalidChanges(
  current: readonly MemberState[],
  adds: readonly { id: number; role: ServerRole }[],
  removes: readonly number[],
): string[] {
  const invalid: string[] = [];
  const byId = new Map(current.map((m) => [m.id, m]));
  if (adds.length === 0 && removes.length === 0) invalid.push('nothing to change');
  const seen = new Set<number>();
  for (const a of adds) {
    if (!Number.isInteger(a.id) || a.id < 1 || a.id > 255) invalid.push(`server id ${a.id} is not in 1..255`);
    if (seen.has(a.id)) invalid.push(`server ${a.id} appears twice in the change`);
    seen.add(a.id);
    const existing = byId.get(a.id);
    if (existing && existing.role === a.role) invalid.push(`server ${a.id} is already a ${a.role}`);
  }
  for (const id of removes) {
    if (seen.has(id)) invalid.push(`server ${id} is both added and removed`);
    seen.add(id);
    if (!byId.has(id)) invalid.push(`server ${id} is not a member`);
  }
  return invalid;
}

/** The membership after the change, sorted by id. */
function membersAfter(
  current: readonly MemberState[],
  adds: readonly { id: number; role: ServerRole }[],
  removed: ReadonlySet<number>,
): MemberState[] {
  const after = new Map<number, MemberState>();
  for (const m of current) if (!removed.has(m.id)) after.set(m.id, { ...m });
  for (const a of adds) {
    const existing = after.get(a.id);
    // A joining server is started and synced before the reconfig, so it counts as up unless told otherwise.
    after.set(a.id, existing ? { ...existing, role: a.role } : { id: a.id, role: a.role, up: true });
  }
  return [...after.values()].sort((x, y) => x.id - y.id);
}

/** The policy on the number of voters after the change: too few or too many refused, an even number confirmed. */
function voterGuards(before: QuorumFigures, afterFigures: QuorumFigures, opts: MembershipGuardOptions) {
  const minVoters = opts.minVoters ?? 3;
  const refused: string[] = [];
  const warnings: string[] = [];
  if (afterFigures.voters < minVoters && !(afterFigures.voters > before.voters)) {
    refused.push(
      afterFigures.voters === 0
        ? 'the change leaves no voters'
        : `the change leaves ${plural(afterFigures.voters, 'voter')}, fewer than ${minVoters}: ` +
            `${afterFigures.voters < 3 ? 'a single failure would stop writes' : 'below the configured minimum'}`,
    );
  } else if (afterFigures.voters < minVoters) {
    warnings.push(`still ${plural(afterFigures.voters, 'voter')} after the change, fewer than ${minVoters}`);
  }
  if (opts.maxVoters !== undefined && afterFigures.voters > opts.maxVoters) {
    refused.push(`the change leaves ${plural(afterFigures.voters, 'voter')}, more than the maximum of ${opts.maxVoters}`);
  }
  const needsConfirmation = afterFigures.voters > 0 && afterFigures.voters % 2 === 0;
  if (needsConfirmation) {
    warnings.push(
      `${afterFigures.voters} voters tolerate ${plural(afterFigures.tolerates, 'failure')}, no more than ` +
        `${afterFigures.voters - 1} would, and every write waits for ${afterFigures.quorum} of them`,
    );
  }
  return { refused, warnings, needsConfirmation };
}

/**
 * With liveness known: ZooKeeper commits a new config only when a quorum of it is connected and
 * in sync (else NEWCONFIGNOQUORUM), and the old quorum must be there to propose it.
 */
function unreachableQuorums(
  current: readonly MemberState[],
  members: readonly MemberState[],
  before: QuorumFigures,
  afterFigures: QuorumFigures,
): string[] {
  const unreachable: string[] = [];
  if (!current.some((m) => m.up !== undefined)) return unreachable;
  const upVotersAfter = members.filter((m) => m.role === 'participant' && m.up !== false).length;
  if (afterFigures.voters > 0 && upVotersAfter < afterFigures.quorum) {
    unreachable.push(
      `only ${upVotersAfter} of the ${afterFigures.voters} voters after the change are up; ${afterFigures.quorum} are needed`,
    );
  }
  const upVotersBefore = current.filter((m) => m.role === 'participant' && m.up === true).length;
  if (upVotersBefore < before.quorum) {
    unreachable.push(`the ensemble has no quorum now (${upVotersBefore} of ${before.voters} voters up, ${before.quorum} needed)`);
  }
  return unreachable;
}

/**
 * checkMembershipChange, throwing when the change must not run: AppError BAD_INPUT for a change that
 * makes no sense (unknown id, no-op), CONFLICT for one the guards refuse or that needs a confirmation
 * not given (`details.needsConfirmation`), NO_QUORUM when too few servers are up.
 */
export function assertMembershipChange(
  current: readonly MemberState[],
  change: MembershipChange,
  opts: MembershipGuardOptions & { confirmed?: boolean } = {},
): MembershipChangeCheck {
  const check = checkMembershipChange(current, change, opts);
  const details = { ...check } as unknown as Record<string, unknown>;
  if (!check.allowed) {
    const code = check.refusal === 'invalid' ? 'BAD_INPUT' : check.refusal === 'no_quorum' ? 'NO_QUORUM' : 'CONFLICT';
    throw new AppError(code, `membership change refused: ${check.problems.join('; ')}`, details);
  }
  if (check.needsConfirmation && !opts.confirmed) {
    throw new AppError('CONFLICT', `membership change needs confirmation: ${check.warnings.join('; ')} (${check.summary})`, details);
  }
  return check;
}

export interface RestartCandidate {
  name: string;
  role: ServerRole;
  /** What the server said it is (srvr Mode). */
  mode: 'leader' | 'follower' | 'observer' | 'standalone' | 'unknown';
}

/**
 * Rolling-restart order: observers first (they carry no vote), then followers, the leader last so
 * the ensemble elects a new one only once, among servers that are already restarted. Ties keep the
 * given order.
 */
export function rollingRestartOrder<T extends RestartCandidate>(members: readonly T[]): T[] {
  const rank = (m: T): number => (m.mode === 'leader' ? 2 : m.role === 'observer' || m.mode === 'observer' ? 0 : 1);
  return [...members]
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}
