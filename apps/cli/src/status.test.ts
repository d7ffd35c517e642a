import { describe, expect, it } from 'vitest';

import { controlLines } from './commands/status.ts';

describe('controlLines', () => {
  const base = { instance: { id: 'b', url: 'http://h:8081', startedAt: '' }, elections: 1 };
  it('names the leader, the followers and the last takeover with its timings', () => {
    const lines = controlLines({
      ...base,
      role: 'leader',
      leader: { id: 'b', url: 'http://h:8081', startedAt: '', since: '2026-12-07T09:00:00.000Z', beatAt: '', self: true },
      instances: [
        { id: 'b', url: 'http://h:8081', startedAt: '', leader: true, self: true },
        { id: 'c', url: 'http://h:8082', startedAt: '', leader: false, self: false },
      ],
      takeovers: [{ at: '2026-12-07T09:00:00.000Z', from: 'a', to: 'b', detectionMs: 4100, electionMs: 3, recoveryMs: 150, recovered: {} }],
    });
    expect(lines).toEqual([
      'control plane: 2 instances; leader b (http://h:8081) since 2026-12-07T09:00:00.000Z; this one: b, leader',
      'followers: c (http://h:8082)',
      'last takeover: 2026-12-07T09:00:00.000Z, a → b: detection 4100 ms, election 3 ms, recovery 150 ms',
    ]);
  });
  it('says so when no instance leads, and when the instance runs alone', () => {
    expect(controlLines({ ...base, role: 'follower', leader: null, instances: [], takeovers: [] })[0]).toMatch(
      /leader none \(election under way\)/,
    );
    expect(controlLines({ ...base, role: 'standalone', leader: null, instances: [], takeovers: [] })).toEqual([
      'control plane: one instance (standalone)',
    ]);
  });
});
