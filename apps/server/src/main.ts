/**
 * Process entry: `npm start`. Reads the configuration, boots, prints the URL, and on SIGINT/SIGTERM stops
 * everything it started (the embedded ZooKeeper processes included) before exiting.
 */
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

import { boot } from './boot.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

// After each full collection V8 lets the heap grow up to 4x what was live before collecting again. The server's
// big allocations are one-offs (loading 100,000 file records, reading ZooKeeper's tree back at a restart) and it
// idles between requests, so the garbage of those one-offs stayed resident: heap 110-260 MB of which ~60 MB live,
// RSS 250-430 MB. Growing by 25% keeps it near what is live (RSS ~200 MB with 100,000 files, bench/server-rss),
// at no measurable cost in start-up or request times. V8 reads this flag each time it sizes the heap.
v8.setFlagsFromString('--heap-growing-percent=25');

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`zkha: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const webDir = fileURLToPath(new URL('../../web/dist', import.meta.url));
  const logger = await createLogger({ level: config.LOG_LEVEL, logsDir: config.LOGS_DIR });
  const server = await boot(config, {
    webDir,
    log: (line) => logger.info(line),
    loggerInstance: logger,
  });
  console.log(`zkha: ready at ${server.url}/ui/  (API ${server.url}/trpc, REST ${server.url}/api, metrics ${server.url}/metrics)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`zkha: ${signal} received, stopping`);
    server
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        console.error('zkha: error while stopping', err);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`zkha: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
