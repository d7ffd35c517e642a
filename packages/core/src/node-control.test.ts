import { describe, expect, it } from 'vitest';

import { quorumImpact } from './node-control.ts';

const all = (up: boolean[]) => up.map((u, i) => ({ node: `zk${i + 1}`, up: u }));

describe('quorumImpact', () => {
  it.each([
    ['zk2', 'stop', [true, true, true], true, 'stopping zk2 leaves 2 of 3: quorum kept'],
    ['zk1', 'stop', [true, false, true], false, 'stopping zk1 now loses quorum: writes will stop'],
    ['zk1', 'kill', [true, true, true], true, 'killing zk1 leaves 2 of 3: quorum kept'],
    ['zk3', 'restart', [true, false, true], false, 'restarting zk3 now loses quorum: writes will stop until it is back'],
    ['zk2', 'start', [true, false, false], true, 'starting zk2 brings 2 of 3 back: quorum restored'],
    ['zk2', 'start', [true, false, true], true, 'starting zk2 brings 3 of 3 back: quorum kept'],
    ['zk1', 'stop', [true, false, false], false, 'stopping zk1 leaves 0 of 3: quorum is already lost (2 needed)'],
  ] as const)('%s %s with %j → quorum kept %s', (node, action, up, keeps, message) => {
    const r = quorumImpact(node, action, all([...up]));
    expect(r.keepsQuorum).toBe(keeps);
    expect(r.message).toBe(message);
  });

  it('a stopped node stopped again changes nothing', () => {
    expect(quorumImpact('zk2', 'stop', all([true, false, true]))).toMatchObject({ servingAfter: 2, keepsQuorum: true });
  });

  it('five servers tolerate two down', () => {
    expect(quorumImpact('zk5', 'stop', all([true, true, true, false, true])).keepsQuorum).toBe(true);
    expect(quorumImpact('zk5', 'stop', all([true, true, false, false, true])).keepsQuorum).toBe(false);
  });
});
