import path from 'node:path';

import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';

/**
 * The server's structured JSON log: to stdout and to `<logsDir>/backend/server.<n>.log`, rolled daily or at
 * 10 MB with the last 7 files kept (pino-roll). Both are sonic-boom streams in this thread: they buffer and write
 * asynchronously, so a slow disk does not block the event loop either, without the pino transport's worker
 * thread (a second V8 isolate: ~20 MB of resident memory for two writers). What is still buffered is written
 * synchronously when the process exits.
 */
export async function createLogger(opts: { level: string; logsDir: string; stdout?: boolean }): Promise<Logger> {
  const streams: pino.StreamEntry[] = [
    {
      level: opts.level as pino.Level,
      stream: await pinoRoll({
        file: path.join(path.resolve(opts.logsDir), 'backend', 'server'),
        extension: '.log',
        frequency: 'daily',
        size: '10m',
        mkdir: true,
        limit: { count: 7 },
      }),
    },
  ];
  if (opts.stdout !== false) streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: 1, sync: false }) });
  const out = pino.multistream(streams);
  process.once('exit', () => out.flushSync());
  return pino({ level: opts.level, base: { service: 'zkha' } }, out);
}
