import type { Command } from 'commander';

import { createZkhaClient, trpcUrl, type ZkhaClient } from '@zkha/sdk/client';

import { UsageError } from './errors.ts';
import { Output, type Io } from './output.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

/** What a command needs: the typed client, the output, and the terminal. Built from the global options. */
export interface CommandContext {
  client: ZkhaClient;
  out: Output;
  io: Io;
  url: string;
  json: boolean;
}

export function contextOf(cmd: Command, io: Io): CommandContext {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  try {
    trpcUrl(opts.url);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (from --url or ZKHA_URL)`);
  }
  const json = opts.json === true;
  return {
    client: createZkhaClient({ url: opts.url, ...(opts.token ? { token: opts.token } : {}) }),
    out: new Output(io, json),
    io,
    url: opts.url,
    json,
  };
}
