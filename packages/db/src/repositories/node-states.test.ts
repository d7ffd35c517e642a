import { describe, expect, it } from 'vitest';
import { useTempDb } from '../test-helpers.ts';
import { getNodeStates, setNodeDrained } from './node-states.ts';

describe('node states repository', () => {
  const temp = useTempDb();

  it('treats a node without a row as in service', () => {
    const { db } = temp.open();
    expect(getNodeStates(db, ['zk1', 'zk2'])).toEqual([
      { node: 'zk1', drained: false, reason: null, updatedAt: null },
      { node: 'zk2', drained: false, reason: null, updatedAt: null },
    ]);
    expect(getNodeStates(db, [])).toEqual([]);
  });

  it('drains and undrains with a reason, returning states in the order asked', () => {
    const { db, sqlite } = temp.open();
    const drained = setNodeDrained(db, 'zk2', true, 'disk replacement');
    expect(drained).toMatchObject({ node: 'zk2', drained: true, reason: 'disk replacement' });
    expect(drained.updatedAt).not.toBeNull();
    // stored as an integer boolean in SQL
    expect(sqlite.prepare("select drained from node_states where node = 'zk2'").get()).toEqual({ drained: 1 });

    const states = getNodeStates(db, ['zk3', 'zk2', 'zk1']);
    expect(states.map((s) => [s.node, s.drained, s.reason])).toEqual([
      ['zk3', false, null],
      ['zk2', true, 'disk replacement'],
      ['zk1', false, null],
    ]);

    const back = setNodeDrained(db, 'zk2', false, null);
    expect(back).toMatchObject({ node: 'zk2', drained: false, reason: null });
    expect(getNodeStates(db, ['zk2'])[0]).toEqual(back);
    expect(sqlite.prepare('select count(*) as n from node_states').get()).toEqual({ n: 1 });
  });
});
