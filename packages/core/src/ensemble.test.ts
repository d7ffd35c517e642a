import { describe, expect, it } from 'vitest';
import { isAppError } from './errors.ts';
import {
  assertMembershipChange,
  checkMembershipChange,
  quorumFigures,
  quorumSize,
  rollingRestartOrder,
  type MemberState,
} from './ensemble.ts';

const voters = (...ids: number[]): MemberState[] => ids.map((id) => ({ id, role: 'participant' as const }));

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isAppError(err) ? err.code : 'not an AppError';
  }
}

describe('quorum arithmetic', () => {
  it('is a strict majority of the voters; observers do not count', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([0, 1, 2, 2, 3, 3, 4, 4]);
    expect(quorumFigures([...voters(1, 2, 3), { id: 4, role: 'observer' }])).toEqual({ voters: 3, observers: 1, quorum: 2, tolerates: 1 });
    expect(quorumFigures(voters(1, 2, 3, 4)).tolerates).toBe(1);
    expect(quorumFigures(voters(1, 2, 3, 4, 5)).tolerates).toBe(2);
  });
});

describe('checkMembershipChange', () => {
  it('3 → 4 voters is allowed but needs confirmation, with quorum before and after', () => {
    const c = checkMembershipChange(voters(1, 2, 3), { add: [{ id: 4, role: 'participant' }] });
    expect(c.allowed).toBe(true);
    expect(c.needsConfirmation).toBe(true);
    expect(c.before).toEqual({ voters: 3, observers: 0, quorum: 2, tolerates: 1 });
    expect(c.after).toEqual({ voters: 4, observers: 0, quorum: 3, tolerates: 1 });
    expect(c.summary).toBe('3 → 4 voters, quorum 2 → 3, tolerates 1 → 1 failure');
    expect(c.warnings.join(' ')).toMatch(/4 voters tolerate 1 failure/);
  });

  it('4 → 5 voters needs no confirmation; adding an observer leaves the quorum alone', () => {
    const c = checkMembershipChange(voters(1, 2, 3, 4), { add: [{ id: 5, role: 'participant' }] });
    expect(c).toMatchObject({ allowed: true, needsConfirmation: false, after: { voters: 5, quorum: 3, tolerates: 2 } });
    const o = checkMembershipChange(voters(1, 2, 3), { add: [{ id: 9, role: 'observer' }] });
    expect(o).toMatchObject({ allowed: true, needsConfirmation: false, after: { voters: 3, observers: 1, quorum: 2 } });
    expect(o.summary).toBe('3 → 3 voters (+1 observer), quorum 2 → 2, tolerates 1 → 1 failure');
  });

  it('refuses fewer than 3 voters, by removal or by demotion', () => {
    const r = checkMembershipChange(voters(1, 2, 3), { remove: [3] });
    expect(r).toMatchObject({ allowed: false, refusal: 'guard', after: { voters: 2 } });
    expect(r.problems[0]).toMatch(/leaves 2 voters, fewer than 3: a single failure would stop writes/);
    expect(checkMembershipChange(voters(1, 2, 3), { add: [{ id: 2, role: 'observer' }] }).allowed).toBe(false);
    expect(checkMembershipChange(voters(1), { remove: [1] }).problems).toContain('the change leaves no voters');
  });

  it('lets a too-small ensemble grow, and honours minVoters / maxVoters', () => {
    const grow = checkMembershipChange(voters(1), { add: [{ id: 2, role: 'participant' }] });
    expect(grow.allowed).toBe(true);
    expect(grow.warnings.join(' ')).toMatch(/still 2 voters/);
    expect(checkMembershipChange(voters(1, 2, 3, 4, 5), { remove: [5] }, { minVoters: 5 }).allowed).toBe(false);
    const big = checkMembershipChange(voters(1, 2, 3, 4, 5, 6, 7), { add: [{ id: 8, role: 'participant' }] }, { maxVoters: 7 });
    expect(big.problems).toEqual(['the change leaves 8 voters, more than the maximum of 7']);
  });

  it('refuses changes that make no sense', () => {
    expect(checkMembershipChange(voters(1, 2, 3), {}).refusal).toBe('invalid');
    expect(checkMembershipChange(voters(1, 2, 3), { remove: [7] }).problems).toContain('server 7 is not a member');
    expect(checkMembershipChange(voters(1, 2, 3), { add: [{ id: 2, role: 'participant' }] }).problems).toContain(
      'server 2 is already a participant',
    );
    expect(checkMembershipChange(voters(1, 2, 3, 4), { add: [{ id: 5, role: 'participant' }], remove: [5] }).problems).toContain(
      'server 5 is both added and removed',
    );
    expect(checkMembershipChange(voters(1, 2, 3), { add: [{ id: 256, role: 'participant' }] }).refusal).toBe('invalid');
  });

  it('promotes an observer (a role change, not a new member)', () => {
    const c = checkMembershipChange([...voters(1, 2, 3, 4), { id: 5, role: 'observer' }], { add: [{ id: 5, role: 'participant' }] });
    expect(c).toMatchObject({
      allowed: true,
      needsConfirmation: false,
      before: { voters: 4, observers: 1 },
      after: { voters: 5, observers: 0 },
    });
    expect(c.members.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('with liveness known: refuses a new config whose quorum is not up, and an ensemble without quorum', () => {
    const live: MemberState[] = [
      { id: 1, role: 'participant', up: true, leader: true },
      { id: 2, role: 'participant', up: true },
      { id: 3, role: 'participant', up: false },
      { id: 4, role: 'participant', up: false },
      { id: 5, role: 'participant', up: true },
    ];
    // 5 → 4 voters without server 5: 1 and 2 up of 4, quorum 3.
    const c = checkMembershipChange(live, { remove: [5] }, { minVoters: 3 });
    expect(c.refusal).toBe('no_quorum');
    expect(c.problems[0]).toMatch(/only 2 of the 4 voters after the change are up; 3 are needed/);
    const down = live.map((m) => (m.id === 5 ? { ...m, up: false } : m));
    expect(checkMembershipChange(down, { add: [{ id: 6, role: 'participant' }] }).problems.join(' ')).toMatch(/no quorum now/);
    // Removing the leader is allowed, with a warning.
    const l = checkMembershipChange(
      voters(1, 2, 3, 4).map((m) => ({ ...m, up: true, leader: m.id === 1 })),
      { remove: [1] },
    );
    expect(l.allowed).toBe(true);
    expect(l.warnings).toContain('server 1 is the leader: the change makes the ensemble elect another one');
  });
});

describe('assertMembershipChange', () => {
  it('maps refusals to error codes and wants an explicit yes for an even voter count', () => {
    expect(codeOf(() => assertMembershipChange(voters(1, 2, 3), { remove: [9] }))).toBe('BAD_INPUT');
    expect(codeOf(() => assertMembershipChange(voters(1, 2, 3), { remove: [3] }))).toBe('CONFLICT');
    expect(codeOf(() => assertMembershipChange(voters(1, 2, 3), { add: [{ id: 4, role: 'participant' }] }))).toBe('CONFLICT');
    expect(assertMembershipChange(voters(1, 2, 3), { add: [{ id: 4, role: 'participant' }] }, { confirmed: true }).after.voters).toBe(4);
    const down = voters(1, 2, 3).map((m) => ({ ...m, up: m.id === 1 }));
    expect(codeOf(() => assertMembershipChange(down, { add: [{ id: 4, role: 'observer' }] }))).toBe('NO_QUORUM');
  });
});

describe('rollingRestartOrder', () => {
  it('observers, then followers, the leader last, otherwise in the given order', () => {
    const order = rollingRestartOrder([
      { name: 'zk1', role: 'participant', mode: 'leader' },
      { name: 'zk2', role: 'participant', mode: 'follower' },
      { name: 'zk3', role: 'observer', mode: 'observer' },
      { name: 'zk4', role: 'participant', mode: 'follower' },
    ] as const);
    expect(order.map((m) => m.name)).toEqual(['zk3', 'zk2', 'zk4', 'zk1']);
  });
});
