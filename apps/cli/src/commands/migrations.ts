import type { Command } from 'commander';

import { contextOf } from '../context.ts';
import type { Io } from '../output.ts';
import { callOptional } from '../optional.ts';

/** Ids are numbers today; a string id (a uuid) is passed through unchanged. */
function migrationId(raw: string): number | string {
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

export function registerMigrations(program: Command, io: Io): void {
  const migrations = program.command('migrations').description('the migration queue (on servers that have it)');

  migrations
    .command('list')
    .description('queued and running file migrations')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await callOptional(client, 'query', 'migrations.list', {}, 'migrations list');
      if (json) return out.document(result);
      out.generic(result);
    });

  migrations
    .command('cancel')
    .description('cancel a queued migration')
    .argument('<id>', 'migration id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await callOptional(client, 'mutation', 'migrations.cancel', { id: migrationId(id) }, 'migrations cancel');
      if (json) return out.document(result);
      out.generic(result);
    });
}
