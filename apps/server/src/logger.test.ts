import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { createLogger } from './logger.ts';

describe('createLogger', () => {
  it('writes structured JSON lines to logs/backend/server.<n>.log', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zkha-log-'));
    try {
      const logger = await createLogger({ level: 'info', logsDir: dir, stdout: false });
      logger.info({ node: 'zk1' }, 'hello from the test');
      logger.debug('below the level: not written');
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      let text = '';
      for (let i = 0; i < 50 && !text.includes('hello'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        const files = (await readdir(path.join(dir, 'backend')).catch(() => [])).filter((f) => f.endsWith('.log'));
        text = (await Promise.all(files.map((f) => readFile(path.join(dir, 'backend', f), 'utf8')))).join('');
      }
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 30, msg: 'hello from the test', node: 'zk1', service: 'zkha' });
      expect((await readdir(path.join(dir, 'backend')))[0]).toMatch(/^server\.\d+\.log$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
