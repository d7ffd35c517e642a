import path from 'node:path';

import pino, { type Logger } from 'pino';

/**
 * The server's structured JSON log: to stdout and to `<logsDir>/backend/server.<n>.log`, rolled daily or at
 * 10 MB with the last 7 files kept (pino-roll). Both writers run in a pino transport worker, so a slow disk
 * never blocks the event loop.
 */
export function createLogger(opts: { level: string; logsDir: string; stdout?: boolean }): Logger {
  const targets: pino.TransportTargetOptions[] = [
    {
      target: 'pino-roll',
      level: opts.level,
      options: {
        file: path.join(path.resolve(opts.logsDir), 'backend', 'server'),
        extension: '.log',
        frequency: 'daily',
        size: '10m',
        mkdir: true,
        limit: { count: 7 },
      },
    },
  ];
  if (opts.stdout !== false) targets.push({ target: 'pino/file', level: opts.level, options: { destination: 1 } });
  return pino({ level: opts.level, base: { service: 'zkha' } }, pino.transport({ targets }));
}
