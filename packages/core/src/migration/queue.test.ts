import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import {
  DEFAULT_CAPS,
  admit,
  importanceScore,
  orderTasks,
  urgency,
  type Caps,
  type MigrationTaskView,
  type OrderingPolicy,
} from './queue.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const MiB = 1024 * 1024;

let seq = 0;
function task(extra: Partial<MigrationTaskView> = {}): MigrationTaskView {
  seq += 1;
  return {
    id: `t${seq}`,
    uuid: `file-${seq}`,
    source: 'zk1',
    target: 'zk2',
    bytes: 10 * MiB,
    priority: 5,
    deadline: null,
    createdAt: NOW - 1000 + seq,
    status: 'pending',
    bytesDone: 0,
    ...extra,
  };
}

const ids = (tasks: readonly { id: string | number }[]) => tasks.map((t) => t.id);

describe('urgency and importanceScore', () => {
  it.each([
    ['no deadline', null, 0],
    ['two days away', NOW + 48 * HOUR, 0],
    ['exactly 24 h away', NOW + 24 * HOUR, 0],
    ['6 h away', NOW + 6 * HOUR, 0.75],
    ['due now', NOW, 1],
    ['an hour overdue', NOW - HOUR, 1],
  ] as const)('urgency: %s → %d', (_, deadline, expected) => {
    expect(urgency(deadline, NOW)).toBeCloseTo(expected);
  });

  it('priority 10, due in 6 h, half the largest remaining size → 0.5 + 0.35 × 0.75 + 0.15 × 0.5 = 0.8375', () => {
    const t = task({ priority: 10, deadline: NOW + 6 * HOUR, bytes: 50 * MiB });
    expect(importanceScore(t, NOW, 100 * MiB)).toBeCloseTo(0.8375);
  });

  it('counts only the bytes left: a 100 MiB copy 90% done scores like a 10 MiB one', () => {
    const nearlyDone = task({ bytes: 100 * MiB, bytesDone: 90 * MiB });
    const small = task({ bytes: 10 * MiB });
    expect(importanceScore(nearlyDone, NOW, 100 * MiB)).toBeCloseTo(importanceScore(small, NOW, 100 * MiB));
  });

  it('alone (no maxRemainingBytes) the size term is 0: priority 4 → 0.2', () => {
    expect(importanceScore(task({ priority: 4 }), NOW)).toBeCloseTo(0.2);
  });
});

describe('orderTasks', () => {
  const low = task({ id: 'low', priority: 2, deadline: NOW + HOUR });
  const high = task({ id: 'high', priority: 9, deadline: null });
  const mid = task({ id: 'mid', priority: 5, deadline: NOW + 30 * HOUR });
  const midOlder = task({ id: 'mid-older', priority: 5, deadline: null, createdAt: NOW - 10_000 });
  const all = [low, high, mid, midOlder];

  it.each([
    ['priority', ['high', 'mid-older', 'mid', 'low']],
    // Earliest deadline first; no deadline last, higher priority first among those.
    ['deadline', ['low', 'mid', 'high', 'mid-older']],
    // low: 0.1 + 0.35 × 23/24 ≈ 0.435; high: 0.45; mid/mid-older: 0.25 (+ equal size terms).
    ['importance', ['high', 'low', 'mid-older', 'mid']],
  ] as [OrderingPolicy, string[]][])('%s → %j', (policy, expected) => {
    expect(ids(orderTasks(all, policy, NOW))).toEqual(expected);
  });

  it('importance prefers the smaller copy between equals', () => {
    const big = task({ id: 'big', bytes: 100 * MiB });
    const smallOne = task({ id: 'small', bytes: MiB });
    expect(ids(orderTasks([big, smallOne], 'importance', NOW))).toEqual(['small', 'big']);
  });

  it('importance lets an overdue priority-3 task pass a priority-8 task without deadline', () => {
    const overdue = task({ id: 'overdue', priority: 3, deadline: NOW - HOUR });
    const important = task({ id: 'p8', priority: 8 });
    // 0.15 + 0.35 = 0.5 against 0.4
    expect(ids(orderTasks([important, overdue], 'importance', NOW))).toEqual(['overdue', 'p8']);
    expect(ids(orderTasks([important, overdue], 'priority', NOW))).toEqual(['p8', 'overdue']);
  });

  it('ties fall to the older task, then the smaller id; the input is not modified', () => {
    const a = task({ id: 2, createdAt: NOW });
    const b = task({ id: 1, createdAt: NOW });
    const c = task({ id: 3, createdAt: NOW - 1 });
    const input = [a, b, c];
    expect(ids(orderTasks(input, 'priority', NOW))).toEqual([3, 1, 2]);
    expect(input).toEqual([a, b, c]);
  });

  it('rejects an unknown policy with BAD_INPUT', () => {
    expect(() => orderTasks([], 'fifo' as OrderingPolicy, NOW)).toThrow(AppError);
  });
});

describe('admit', () => {
  const caps: Caps = DEFAULT_CAPS;

  it('starts up to the caps in policy order', () => {
    const pending = [
      task({ id: 'a', source: 'zk1', target: 'zk2', priority: 1 }),
      task({ id: 'b', source: 'zk3', target: 'zk4', priority: 9 }),
    ];
    const r = admit(pending, [], caps, 'priority', NOW);
    expect(ids(r.start)).toEqual(['b', 'a']);
    expect(r.waiting).toEqual([]);
  });

  it('cap_source: zk1 already sends 2 migrations', () => {
    const running = [task({ status: 'running', target: 'zk2' }), task({ status: 'running', target: 'zk3' })];
    const r = admit([task({ id: 'x', source: 'zk1', target: 'zk4' })], running, caps, 'priority', NOW);
    expect(r.start).toEqual([]);
    expect(r.waiting).toEqual([{ id: 'x', reason: 'cap_source', message: 'zk1 already sends 2 migrations (per-node cap 2)' }]);
  });

  it('cap_target: zk2 already receives 2 migrations', () => {
    const running = [task({ status: 'running', source: 'zk3' }), task({ status: 'running', source: 'zk4' })];
    const r = admit([task({ id: 'x', source: 'zk1', target: 'zk2' })], running, caps, 'priority', NOW);
    expect(r.waiting).toEqual([{ id: 'x', reason: 'cap_target', message: 'zk2 already receives 2 migrations (per-node cap 2)' }]);
  });

  it('cap_total: 4 migrations already running', () => {
    const running = [
      task({ status: 'running', source: 'a', target: 'b' }),
      task({ status: 'running', source: 'c', target: 'd' }),
      task({ status: 'running', source: 'e', target: 'f' }),
      task({ status: 'running', source: 'g', target: 'h' }),
    ];
    const r = admit([task({ id: 'x' })], running, caps, 'priority', NOW);
    expect(r.waiting).toEqual([{ id: 'x', reason: 'cap_total', message: '4 migrations already running (cluster cap 4)' }]);
  });

  it('node_offline for either end, target_full, paused', () => {
    const pending = [
      task({ id: 'from-offline', source: 'zk3' }),
      task({ id: 'to-offline', target: 'zk3' }),
      task({ id: 'to-full', target: 'zk4' }),
      task({ id: 'paused', status: 'paused' }),
    ];
    const r = admit(pending, [], caps, 'priority', NOW, { offlineNodes: ['zk3'], fullNodes: new Set(['zk4']) });
    expect(r.start).toEqual([]);
    expect(r.waiting).toEqual([
      { id: 'from-offline', reason: 'node_offline', message: 'zk3 (the source) is offline: waiting for it to return' },
      { id: 'to-offline', reason: 'node_offline', message: 'zk3 (the target) is offline: waiting for it to return' },
      { id: 'to-full', reason: 'target_full', message: 'zk4 is at its high watermark: it takes no more files until space is freed' },
      { id: 'paused', reason: 'paused', message: 'paused by an operator: resume it to let it run' },
    ]);
  });

  it('the most lasting reason wins: a paused task on an offline node says paused', () => {
    const r = admit([task({ id: 'p', status: 'paused', source: 'zk9' })], [], caps, 'priority', NOW, { offlineNodes: ['zk9'] });
    expect(r.waiting[0]!.reason).toBe('paused');
  });

  it('counts the tasks it starts: the third copy out of zk1 waits on the per-node cap', () => {
    const pending = [task({ id: 'a', target: 'zk2' }), task({ id: 'b', target: 'zk3' }), task({ id: 'c', target: 'zk4' })];
    const r = admit(pending, [], caps, 'priority', NOW);
    expect(ids(r.start)).toEqual(['a', 'b']);
    expect(r.waiting).toEqual([{ id: 'c', reason: 'cap_source', message: 'zk1 already sends 2 migrations (per-node cap 2)' }]);
  });

  it('a busy node does not block tasks between other nodes (work-conserving)', () => {
    const pending = [
      task({ id: 'a', priority: 9, source: 'zk1', target: 'zk2' }),
      task({ id: 'b', priority: 8, source: 'zk1', target: 'zk3' }),
      task({ id: 'c', priority: 7, source: 'zk1', target: 'zk4' }),
      task({ id: 'd', priority: 1, source: 'zk5', target: 'zk6' }),
    ];
    const r = admit(pending, [], caps, 'priority', NOW);
    expect(ids(r.start)).toEqual(['a', 'b', 'd']);
    expect(ids(r.waiting)).toEqual(['c']);
  });

  it('caps changed at run time apply on the next call', () => {
    const pending = Array.from({ length: 6 }, (_, i) => task({ id: `m${i}`, source: `s${i}`, target: `t${i}` }));
    expect(admit(pending, [], caps, 'priority', NOW).start).toHaveLength(4);
    expect(admit(pending, [], { ...caps, maxConcurrent: 1 }, 'priority', NOW).start).toHaveLength(1);
    expect(admit(pending, [], { ...caps, maxConcurrent: 10 }, 'priority', NOW).start).toHaveLength(6);
    const r = admit(pending, [], { ...caps, maxConcurrent: 0 }, 'priority', NOW);
    expect(r.start).toEqual([]);
    expect(r.waiting[0]!.message).toBe('0 migrations already running (cluster cap 0)');
  });

  it('ignores finished tasks in pending and non-running tasks in running', () => {
    const pending = [task({ id: 'done', status: 'completed' }), task({ id: 'failed', status: 'failed' }), task({ id: 'go' })];
    const running = [task({ status: 'completed' }), task({ status: 'cancelled' }), task({ status: 'failed' })];
    const r = admit(pending, running, caps, 'priority', NOW);
    expect(ids(r.start)).toEqual(['go']);
    expect(r.waiting).toEqual([]);
  });

  it('the deadline policy starts the most urgent first when slots are scarce', () => {
    const pending = [
      task({ id: 'later', deadline: NOW + 10 * HOUR, source: 'a', target: 'b' }),
      task({ id: 'sooner', deadline: NOW + HOUR, source: 'c', target: 'd' }),
    ];
    const r = admit(pending, [], { ...caps, maxConcurrent: 1 }, 'deadline', NOW);
    expect(ids(r.start)).toEqual(['sooner']);
    expect(r.waiting).toEqual([{ id: 'later', reason: 'cap_total', message: '1 migration already running (cluster cap 1)' }]);
  });
});
