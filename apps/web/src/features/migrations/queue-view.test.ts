import { afterEach, describe, expect, it, vi } from 'vitest';

import { createThrottle, groupWaiting, ProgressChanges, sortTasks, ThroughputTracker, type QueueTaskLike } from './queue-view.ts';

const task = (id: number, status: QueueTaskLike['status'], priority = 5, bytesDone = 0): QueueTaskLike => ({
  id,
  status,
  priority,
  bytes: 100,
  bytesDone,
});

describe('sortTasks', () => {
  it('puts running first, then paused, then pending by priority and age', () => {
    const sorted = sortTasks([task(1, 'pending', 5), task(2, 'pending', 9), task(3, 'running'), task(4, 'paused'), task(5, 'pending', 9)]);
    expect(sorted.map((t) => t.id)).toEqual([3, 4, 2, 5, 1]);
  });
});

describe('groupWaiting', () => {
  it('counts each reason and keeps the first message', () => {
    const groups = groupWaiting([
      { reason: 'cap_source', message: 'zk1 already sends 2 migrations' },
      { reason: 'cap_total', message: '4 migrations already running' },
      { reason: 'cap_source', message: 'zk1 again' },
    ]);
    expect(groups).toEqual([
      { reason: 'cap_source', count: 2, example: 'zk1 already sends 2 migrations' },
      { reason: 'cap_total', count: 1, example: '4 migrations already running' },
    ]);
  });
});

describe('ThroughputTracker', () => {
  it('measures bytes per second of running tasks over its window and forgets finished ones', () => {
    const tracker = new ThroughputTracker(5_000);
    expect(tracker.update([task(1, 'running', 5, 0)], 0).size).toBe(0);
    expect(tracker.update([task(1, 'running', 5, 1000)], 1000).get(1)).toBe(1000);
    expect(tracker.update([task(1, 'running', 5, 3000)], 2000).get(1)).toBe(1500);
    // Older samples leave the window: the rate follows the recent speed.
    const rates = tracker.update([task(1, 'running', 5, 4000)], 7000);
    expect(rates.get(1)).toBeCloseTo((4000 - 3000) / 5, 6);
    expect(tracker.update([task(2, 'pending')], 8000).size).toBe(0);
    expect(tracker.update([task(1, 'running', 5, 5000)], 9000).size).toBe(0); // task 1 was forgotten: one fresh sample
  });

  it('starts over when a task restarts from zero', () => {
    const tracker = new ThroughputTracker();
    tracker.update([task(1, 'running', 5, 0)], 0);
    tracker.update([task(1, 'running', 5, 5000)], 1000);
    expect(tracker.update([task(1, 'running', 5, 0)], 2000).size).toBe(0);
  });
});

describe('ProgressChanges', () => {
  const event = (ids: number[], caps: object = { total: 4 }) => ({ tasks: ids.map((id) => ({ id })), caps });
  const none = { finished: false, openSetChanged: false, capsChanged: false };

  it('takes the first event as the baseline', () => {
    expect(new ProgressChanges().update(event([1, 2]))).toEqual(none);
  });

  it('says a task left (finished) and the open set changed, or only that it changed', () => {
    const changes = new ProgressChanges();
    changes.update(event([1, 2]));
    expect(changes.update(event([1, 2]))).toEqual(none);
    expect(changes.update(event([1, 2, 3]))).toEqual({ ...none, openSetChanged: true });
    expect(changes.update(event([2, 3]))).toEqual({ ...none, finished: true, openSetChanged: true });
    // Same size, other members: one left, one came.
    expect(changes.update(event([3, 4]))).toEqual({ ...none, finished: true, openSetChanged: true });
  });

  it('says the caps changed', () => {
    const changes = new ProgressChanges();
    changes.update(event([], { total: 4 }));
    expect(changes.update(event([], { total: 4 }))).toEqual(none);
    expect(changes.update(event([], { total: 2 }))).toEqual({ ...none, capsChanged: true });
  });
});

describe('createThrottle', () => {
  afterEach(() => vi.useRealTimers());

  it('runs at once, then at most once per period with a trailing call', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = createThrottle(fn, 1000);
    t.request();
    expect(fn).toHaveBeenCalledTimes(1);
    t.request();
    t.request();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
    t.request();
    t.cancel();
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
