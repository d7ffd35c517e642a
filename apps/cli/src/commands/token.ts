/**
 * `zkha token create|list|revoke`: API tokens, managed by opening the server's SQLite file directly rather
 * than through the API. The first token has to come from somewhere: a server beyond loopback without one does
 * not start, and with one the API would already need a token to make a token. Whoever can write the database
 * file already controls the server, so the file is the natural place for that first key; the running server
 * reads tokens from the database on every request, so a new or revoked token takes effect at once.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { Option, type Command } from 'commander';

import { CliError, UsageError } from '../errors.ts';
import { Output, type Io } from '../output.ts';
import { time } from '../format.ts';

/** The server's default DATABASE_PATH, relative to where it was started. */
const DEFAULT_DB = 'data/zkha.db';

type DbModule = typeof import('@zkha/db');

/** Opens an existing database only: creating an empty one by mistake would hold a token no server reads. */
async function openDb(file: string): Promise<{ db: DbModule; database: ReturnType<DbModule['createDb']> }> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) {
    throw new UsageError(
      `no zkha database at ${resolved}: run this on the server's machine, from the folder the server was started in, or pass --db <the server's DATABASE_PATH>`,
    );
  }
  // Loaded on demand: SQLite is a native module the API commands never need.
  const db = await import('@zkha/db');
  return { db, database: db.createDb(resolved) };
}

interface TokenOptions {
  db: string;
}

function dbOption(): Option {
  return new Option('--db <path>', "the server's SQLite database (its DATABASE_PATH)").env('DATABASE_PATH').default(DEFAULT_DB);
}

function outputOf(cmd: Command, io: Io): Output {
  return new Output(io, cmd.optsWithGlobals<{ json?: boolean }>().json === true);
}

export function registerToken(program: Command, io: Io): void {
  const token = program
    .command('token')
    .description("API tokens, stored hashed in the server's database (run on the server's machine)")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  zkha token create ci --role operator        # prints the secret once',
        '  zkha token create grafana --role viewer --db /var/lib/zkha/zkha.db',
        '  zkha token list',
        '  zkha token revoke ci',
        '',
        'Use a token with --token or ZKHA_TOKEN, or send it as "Authorization: Bearer <token>".',
      ].join('\n'),
    );

  token
    .command('create')
    .description('create a token and print its secret (shown only this once)')
    .argument('<name>', 'what the operations log calls it (token:<name>)')
    .addOption(
      new Option('--role <role>', 'viewer reads; operator also changes things').choices(['viewer', 'operator']).makeOptionMandatory(),
    )
    .addOption(dbOption())
    .action(async (name: string, opts: TokenOptions & { role: 'viewer' | 'operator' }, cmd: Command) => {
      const out = outputOf(cmd, io);
      const { db, database } = await openDb(opts.db);
      try {
        const { token: created, secret } = db.createApiToken(database.db, { name, role: opts.role });
        if (out.json) return out.document({ ...created, secret });
        out.line(`created token "${created.name}" (${created.role})`);
        out.line(`secret, shown only now: ${secret}`);
        out.line(`use it with: ZKHA_TOKEN=<secret> zkha status   or   Authorization: Bearer <secret>`);
      } finally {
        database.close();
      }
    });

  token
    .command('list')
    .description('every token: role, created, last used, revoked (never the secrets)')
    .addOption(dbOption())
    .action(async (opts: TokenOptions, cmd: Command) => {
      const out = outputOf(cmd, io);
      const { db, database } = await openDb(opts.db);
      try {
        const list = db.listApiTokens(database.db);
        if (out.json) return out.document(list);
        out.table(
          ['name', 'role', 'created', 'last used', 'revoked'],
          list.map((t) => [t.name, t.role, time(t.createdAt), time(t.lastUsedAt), t.revokedAt ? time(t.revokedAt) : 'no']),
        );
      } finally {
        database.close();
      }
    });

  token
    .command('revoke')
    .description('revoke a token at once, ending the console sessions opened with it')
    .argument('<name>', 'token name')
    .addOption(dbOption())
    .action(async (name: string, opts: TokenOptions, cmd: Command) => {
      const out = outputOf(cmd, io);
      const { db, database } = await openDb(opts.db);
      try {
        if (!db.revokeApiToken(database.db, name)) throw new CliError(`no active token named "${name}" (see zkha token list)`);
        if (out.json) return out.document({ name, revoked: true });
        out.line(`revoked token "${name}"`);
      } finally {
        database.close();
      }
    });
}
