import { createInterface } from 'node:readline/promises';

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
