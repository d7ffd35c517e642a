import { describe, expect, it } from 'vitest';
import { renderServerLine } from '@zkha/zk';
import { renderZooCfg } from './config-files.ts';

describe('zoo.cfg', () => {
  it('renders a dynamic-reconfig zoo.cfg: no membership or client port inside, the dynamic file last', () => {
    const node = { name: 'b', id: 2, clientPort: 2, quorumPort: 3, electionPort: 4, adminPort: 5 };
    const cfg = renderZooCfg(node, [node], {
      host: '127.0.0.1',
      dataDir: '/d',
      tickTime: 500,
      dynamicConfigFile: '/d/conf/zoo.cfg.dynamic.0',
    });
    expect(cfg).toContain('reconfigEnabled=true\n');
    expect(cfg).toContain('standaloneEnabled=false\n');
    expect(cfg).not.toMatch(/^server\.|^clientPort=/m);
    expect(cfg.trimEnd().split('\n').at(-1)).toBe('dynamicConfigFile=/d/conf/zoo.cfg.dynamic.0');
    expect(renderServerLine({ ...node, role: 'observer' }, '10.0.0.1')).toBe('server.2=10.0.0.1:3:4:observer;10.0.0.1:2');
  });

  it('renders server lines in the dynamic-config syntax, sorted by id', () => {
    const cfg = renderZooCfg(
      { name: 'b', id: 2, clientPort: 2, quorumPort: 3, electionPort: 4, adminPort: 5 },
      [
        { name: 'b', id: 2, clientPort: 2, quorumPort: 3, electionPort: 4, adminPort: 5 },
        { name: 'a', id: 1, clientPort: 12, quorumPort: 13, electionPort: 14, adminPort: 15 },
      ],
      { host: '127.0.0.1', dataDir: '/d', tickTime: 500, extraConfig: { forceSync: 'no' } },
    );
    expect(cfg).toContain('tickTime=500\n');
    expect(cfg).toContain('forceSync=no\n');
    expect(cfg.trimEnd().split('\n').slice(-2)).toEqual([
      'server.1=127.0.0.1:13:14:participant;127.0.0.1:12',
      'server.2=127.0.0.1:3:4:participant;127.0.0.1:2',
    ]);
  });
});
