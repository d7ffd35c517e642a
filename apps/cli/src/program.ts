import { readFileSync } from 'node:fs';

import { Command, CommanderError, Option } from 'commander';

import { registerCapacity } from './commands/capacity.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerEnsemble } from './commands/ensemble.ts';
import { registerFiles } from './commands/files.ts';
import { registerLogs } from './commands/logs.ts';
import { registerMigrations } from './commands/migrations.ts';
import { registerNodes } from './commands/nodes.ts';
import { registerScheduler } from './commands/scheduler.ts';
import { registerStatus } from './commands/status.ts';
import { registerStress } from './commands/stress.ts';
import { registerToken } from './commands/token.ts';
import { registerWorkload } from './commands/workload.ts';
import { registerZk } from './commands/zk.ts';
import { DEFAULT_URL, type GlobalOptions } from './context.ts';
import { describeFailure, EXIT } from './errors.ts';
import { processIo, type Io } from './output.ts';

/** This CLI's version, from its package.json. */
export const CLI_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The `zkha` command tree. Settings made here (exit override, output) are inherited by every subcommand. */
export function buildProgram(io: Io = processIo): Command {
  const program = new Command('zkha')
    .description('Drive a zkha control plane: ZooKeeper nodes, demo files, the scheduler, the operations log.')
    .addOption(new Option('--url <url>', 'zkha server base URL').env('ZKHA_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'bearer token sent with every request').env('ZKHA_TOKEN'))
    .option('--json', 'print raw JSON (one document) instead of tables')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  zkha status',
        '  zkha stress zk1 --files 12 --size-kb 128 --run-scheduler',
        '  zkha nodes drain zk3 --reason "disk swap"',
        '  zkha --json scheduler plan | jq .message',
        '  zkha token create ci --role operator   (on the server machine; then ZKHA_TOKEN=<secret>)',
        '',
        'zkha --version (or -V) prints the version.',
        'Exit codes: 0 ok, 1 an error from the server (or no server), 2 usage.',
      ].join('\n'),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  registerStatus(program, io);
  registerNodes(program, io);
  registerScheduler(program, io);
  registerFiles(program, io);
  registerStress(program, io);
  registerLogs(program, io);
  registerMigrations(program, io);
  registerCapacity(program, io);
  registerEnsemble(program, io);
  registerWorkload(program, io);
  registerToken(program, io);
  registerZk(program, io);
  registerCompletion(program, io);
  return program;
}

/** Runs one invocation and returns the exit code: 0 ok, 1 an error from the server (or no server), 2 usage. */
export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  // Only as the whole command line: commander's own version option would also take a subcommand's `--version`
  // (`zkha zk set ... --version 3`, the version a znode was read at).
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.out(CLI_VERSION);
    return EXIT.ok;
  }
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already; --help and --version end here with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const url = program.opts<GlobalOptions>().url ?? DEFAULT_URL;
    const { message, exitCode } = describeFailure(err, url);
    io.err(`error: ${message}`);
    if (process.env.ZKHA_DEBUG && err instanceof Error && err.stack) io.err(err.stack);
    return exitCode;
  }
}
