import { describe, expect, it } from 'vitest';
import { AppError } from '@zkha/core';
import { useTempDb } from '../test-helpers.ts';
import { countTasksByStatus, createTask, getTask, listTasks, updateTaskStatus } from './tasks.ts';

describe('tasks repository', () => {
  const temp = useTempDb();

  it('creates, reads and updates tasks', () => {
    const { db } = temp.open();
    const task = createTask(db, { kind: 'bulk_generate', count: 3 });
    expect(task).toMatchObject({ status: 'queued', payload: { kind: 'bulk_generate', count: 3 } });
    expect(task.createdAt).toBe(task.updatedAt);
    expect(getTask(db, task.id)).toEqual(task);
    expect(getTask(db, 9999)).toBeNull();

    const running = updateTaskStatus(db, task.id, 'running');
    expect(running.status).toBe('running');
    expect(running.createdAt).toBe(task.createdAt);
    expect(running.updatedAt >= task.updatedAt).toBe(true);
    expect(createTask(db, {}, 'done').status).toBe('done');
  });

  it('throws TASK_NOT_FOUND when updating a missing task', () => {
    const { db } = temp.open();
    try {
      updateTaskStatus(db, 42, 'done');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('TASK_NOT_FOUND');
    }
  });

  it('lists newest first with a status filter and limit, and counts every status', () => {
    const { db } = temp.open();
    expect(countTasksByStatus(db)).toEqual({ queued: 0, running: 0, done: 0, failed: 0 });
    const ids = Array.from({ length: 6 }, (_, i) => createTask(db, { i }).id);
    updateTaskStatus(db, ids[0]!, 'done');
    updateTaskStatus(db, ids[1]!, 'failed');
    updateTaskStatus(db, ids[2]!, 'running');

    expect(listTasks(db).map((t) => t.id)).toEqual([...ids].reverse());
    expect(listTasks(db, { limit: 2 }).map((t) => t.id)).toEqual([ids[5], ids[4]]);
    expect(listTasks(db, { status: 'queued' }).map((t) => t.payload['i'])).toEqual([5, 4, 3]);
    expect(countTasksByStatus(db)).toEqual({ queued: 3, running: 1, done: 1, failed: 1 });
  });
});
