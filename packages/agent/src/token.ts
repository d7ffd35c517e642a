/**
 * The agent's bearer token. The control plane holds the same token and sends it with every request; the token is
 * a shared secret, so it must never reach argv (visible to every user through `ps`) or a log line.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';

import { AGENT_TOKEN_ENV } from '@zkha/storage';

/** Shorter than this is guessable over a network in a weekend; generated tokens are 43 characters. */
export const MIN_TOKEN_LENGTH = 16;

export interface LoadedToken {
  token: string;
  /** Where it came from, safe to log ("env", or a file path); never the token itself. */
  source: string;
  generated: boolean;
}

function checked(token: string, source: string): string {
  if (token.length < MIN_TOKEN_LENGTH) throw new Error(`the agent token from ${source} is shorter than ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new Error(`the agent token from ${source} contains whitespace`);
  return token;
}

/**
 * Reads the token from `file`, or writes a new random one there first (mode 0600, created exclusively so two
 * agents starting at once cannot each write their own and disagree).
 */
async function fromFile(file: string): Promise<LoadedToken> {
  try {
    return { token: checked((await readFile(file, 'utf8')).trim(), file), source: file, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  try {
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.writeFile(`${token}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // Lost the race to another starter: its token is the token.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fromFile(file);
    throw err;
  }
  return { token, source: file, generated: true };
}

/**
 * The token, by precedence: the environment variable (then removed from this process's environment, so nothing
 * it starts inherits it), else `tokenFile`, else `<stateDir>/token`; a missing file is generated.
 */
export async function loadToken(opts: { tokenFile?: string | undefined; stateDir: string; env?: NodeJS.ProcessEnv }): Promise<LoadedToken> {
  const env = opts.env ?? process.env;
  const fromEnv = env[AGENT_TOKEN_ENV];
  delete env[AGENT_TOKEN_ENV];
  if (fromEnv) return { token: checked(fromEnv.trim(), AGENT_TOKEN_ENV), source: AGENT_TOKEN_ENV, generated: false };
  return fromFile(opts.tokenFile ?? path.join(opts.stateDir, 'token'));
}

/**
 * Constant-time check of an `Authorization` header. Both sides are hashed first: timingSafeEqual needs equal
 * lengths, and comparing digests leaks neither the token's length nor where the first difference is.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}
