import type { Command } from 'commander';

import { connectionErrorCode, type OperationRecord } from '@zkha/sdk/client';

import { contextOf } from '../context.ts';
import { details, time } from '../format.ts';
import { logSearch } from '../log-search.ts';
import type { Io } from '../output.ts';
import { wholeNumber } from '../parse.ts';

/** One operation on one line: "2025-11-22 01:13:04 #12 drain zk3 success reason="disk swap" by=token:ci". */
export function operationLine(op: OperationRecord): string {
  return [time(op.timestamp), `#${op.id}`, op.action, op.node ?? '-', op.status, details(op.details), op.actor ? `by=${op.actor}` : '']
    .filter((part) => part !== '')
    .join(' ');
}

export function registerLogs(program: Command, io: Io): void {
  const logs = program.command('logs').description('the operations log');

  logs
    .command('tail')
    .description('follow operations live, one line each, until Ctrl-C (NDJSON with --json)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, io: term, json } = contextOf(cmd, io);
      // Start after the newest operation: the server backfills whatever is recorded before its stream attaches,
      // so an action taken right after "following" appears is never lost. (Also a plain reachability check.)
      const [latest] = (await client.logs.operations.query({ limit: 1 })).items;
      const from = { lastEventId: String(latest?.id ?? 0) };
      await new Promise<void>((resolve, reject) => {
        let started = false;
        let lost = false;
        const finish = (err?: unknown) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          sub.unsubscribe();
          if (err === undefined) resolve();
          else reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        };
        const onSignal = () => finish();
        const sub = client.logs.onOperation.subscribe(from, {
          onStarted: () => {
            if (!started) term.err('following operations (Ctrl-C to stop)');
            started = true;
          },
          onData: ({ data }) => term.out(json ? JSON.stringify(data) : operationLine(data)),
          onError: (err) => finish(err),
          onConnectionStateChange: (state) => {
            if (state.state === 'connecting' && state.error) {
              // Never connected: report it like any command would. Connected before: the link reconnects and
              // resumes after the last operation seen, so only say so.
              if (!started) finish(state.error);
              else if (!lost) {
                lost = true;
                term.err(`connection lost (${connectionErrorCode(state.error) ?? state.error.message}), reconnecting`);
              }
            } else if (state.state === 'pending' && lost) {
              lost = false;
              term.err('reconnected');
            }
          },
        });
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });

  logs
    .command('search')
    .description('find operations whose action or details contain the text')
    .argument('<text>', 'text to look for')
    .option('--node <node>', 'only this node')
    .option('--limit <n>', 'how many (server default 50, at most 500)', wholeNumber)
    .action(async (text: string, opts: { node?: string; limit?: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const result = await logSearch(client, { text, ...opts });
      if (json) return out.document(result.raw);
      out.table(
        ['id', 'time', 'what', 'node', 'status', 'details'],
        result.hits.map((h) => [h.id, time(h.timestamp), h.text, h.node, h.status, details(h.details, 80)]),
      );
      if (result.hits.length > 0 && result.total !== null) out.line(`${result.hits.length} of ${result.total} matches`);
    });
}
