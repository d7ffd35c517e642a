import { createInterface } from 'node:readline/promises';

import { CliError, UsageError } from './errors.ts';
import type { Io } from './output.ts';

/** Asks on the terminal; only "y" or "yes" confirms. The question goes to stderr so stdout stays clean. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * The yes a command needs before it changes something: given by `--yes`, or asked on the terminal. Without a
 * terminal it refuses (exit 2, "<refused>: ... pass --yes to <passYesTo>"); a "no" cancels (exit 1,
 * "cancelled: <cancelled>").
 */
export async function requireYes(
  io: Io,
  yes: boolean | undefined,
  o: { question: string; refused: string; passYesTo?: string; cancelled: string },
): Promise<void> {
  if (yes) return;
  if (!io.stdinIsTTY)
    throw new UsageError(
      `${o.refused}: confirmation needed and stdin is not a terminal; pass --yes${o.passYesTo ? ` to ${o.passYesTo}` : ''}`,
    );
  if (!(await confirm(o.question))) throw new CliError(`cancelled: ${o.cancelled}`);
}
