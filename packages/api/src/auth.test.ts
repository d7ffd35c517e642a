import { describe, expect, it } from 'vitest';

import { actorOf, checkAccess, LOCAL_AUTH, WorkLimiter, type RequestAuth } from './auth.ts';

const as = (identity: RequestAuth['identity'], extra: Partial<RequestAuth> = {}): RequestAuth => ({
  identity,
  problem: null,
  readOnly: false,
  limiter: null,
  ...extra,
});
const viewer = as({ kind: 'token', name: 'grafana', role: 'viewer' });
const operator = as({ kind: 'session', name: 'alice', role: 'operator' });

describe('checkAccess', () => {
  it('lets a viewer read and subscribe but not change anything', () => {
    expect(checkAccess(viewer, 'query')).toBeNull();
    expect(checkAccess(viewer, 'subscription')).toBeNull();
    expect(checkAccess(viewer, 'mutation')).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'token:grafana has the viewer role; this needs operator',
    });
  });

  it('lets an operator (and the local operator) do everything', () => {
    for (const kind of ['query', 'subscription', 'mutation'] as const) {
      expect(checkAccess(operator, kind)).toBeNull();
      expect(checkAccess(LOCAL_AUTH, kind)).toBeNull();
    }
  });

  it('refuses a forged browser mutation but not its reads', () => {
    const forged = { ...operator, forgery: 'cross-origin request refused' };
    expect(checkAccess(forged, 'mutation')).toEqual({ status: 403, code: 'FORBIDDEN', message: 'cross-origin request refused' });
    expect(checkAccess(forged, 'query')).toBeNull();
  });

  it('answers 401 with the reason when nobody is identified', () => {
    const denied = checkAccess(as(null, { problem: 'the bearer token is unknown or revoked' }), 'query');
    expect(denied).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(denied?.message).toBe('authentication required: the bearer token is unknown or revoked');
  });

  it("read-only mode refuses every mutation, even an operator's, and nothing else", () => {
    const ro = { ...operator, readOnly: true };
    expect(checkAccess(ro, 'mutation')).toMatchObject({
      status: 403,
      code: 'READ_ONLY',
      message: expect.stringContaining('read-only mode'),
    });
    expect(checkAccess(ro, 'query')).toBeNull();
  });

  it('names actors as the operations log shows them', () => {
    expect(actorOf(viewer.identity!)).toBe('token:grafana');
    expect(actorOf(operator.identity!)).toBe('session:alice');
    expect(actorOf(LOCAL_AUTH.identity!)).toBe('local');
  });
});

describe('WorkLimiter', () => {
  it('grants a burst, then refuses with whole seconds to wait, refilling at the rate', () => {
    let now = 0;
    const limiter = new WorkLimiter({ perMinute: 6, burst: 2, now: () => now }); // one unit per 10 s
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
    now = 4_000;
    expect(limiter.take('a')).toBe(6); // a refused request takes nothing: the wait only shrinks
    now = 10_000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
  });

  it('keeps one bucket per identity', () => {
    const limiter = new WorkLimiter({ perMinute: 60, burst: 1, now: () => 0 });
    expect(limiter.take('token:a')).toBe(0);
    expect(limiter.take('token:a')).toBe(1);
    expect(limiter.take('token:b')).toBe(0);
  });

  it('defaults the burst to one minute of allowance and rejects a zero rate', () => {
    const limiter = new WorkLimiter({ perMinute: 3, now: () => 0 });
    expect([limiter.take('x'), limiter.take('x'), limiter.take('x'), limiter.take('x')]).toEqual([0, 0, 0, 20]);
    expect(() => new WorkLimiter({ perMinute: 0 })).toThrow(RangeError);
  });

  it('holds at most maxKeys keys, however many addresses come: refilled keys go first, then the oldest', () => {
    let now = 0;
    const limiter = new WorkLimiter({ perMinute: 6, burst: 1, maxKeys: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(100);
    // A key still waiting keeps its wait while refilled keys make the room.
    now = 60_000; // every bucket so far is full again
    expect(limiter.take('attacker')).toBe(0);
    expect(limiter.take('attacker')).toBe(10);
    for (let i = 0; i < 50; i++) limiter.take(`192.168.0.${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    expect(limiter.take('attacker')).toBe(10);
  });
});
