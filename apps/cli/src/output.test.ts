import { describe, expect, it } from 'vitest';

import { TRPCClientError } from '@zkha/sdk/client';

import { CliError, describeFailure, UsageError } from './errors.ts';
import { Output, type Io } from './output.ts';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stdinIsTTY: false, stdoutIsTTY: false };
}

describe('Output', () => {
  it('prints an empty table as its header and "no rows", without colour codes off a terminal', () => {
    const io = capture();
    new Output(io, false).table(['a', 'b'], []);
    expect(io.stdout.join('\n')).toBe('┌───┬───┐\n│ a │ b │\n└───┴───┘\nno rows');
  });

  it('renders shapes it does not know: items as a table, an object as fields', () => {
    const io = capture();
    const out = new Output(io, false);
    out.generic({
      items: [
        { id: 1, state: 'queued' },
        { id: 2, state: 'running', extra: [1] },
      ],
    });
    expect(io.stdout[0]).toContain('│ id │ state   │ extra │');
    expect(io.stdout[0]).toContain('│ 2  │ running │ [1]   │');
    out.generic({ cancelled: true });
    expect(io.stdout[1]).toContain('│ cancelled │ yes   │');
  });

  it('sends notes to stderr under --json so stdout stays one document', () => {
    const io = capture();
    const out = new Output(io, true);
    out.note('impact: ...');
    out.document({ ok: true });
    expect(io.stderr).toEqual(['impact: ...']);
    expect(JSON.parse(io.stdout.join('\n'))).toEqual({ ok: true });
  });
});

describe('describeFailure', () => {
  const url = 'http://127.0.0.1:9';

  it('maps usage errors to 2, everything else to 1', () => {
    expect(describeFailure(new UsageError('bad'), url)).toEqual({ message: 'bad', exitCode: 2 });
    expect(describeFailure(new CliError('nope'), url)).toEqual({ message: 'nope', exitCode: 1 });
    expect(describeFailure(new Error('boom'), url)).toEqual({ message: 'boom', exitCode: 1 });
  });

  it('names the network error of a request that never reached a server', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const err = new TRPCClientError('fetch failed', { cause: new TypeError('fetch failed', { cause: refused }) });
    expect(describeFailure(err, url)).toEqual({ message: `cannot reach the zkha server at ${url} (ECONNREFUSED)`, exitCode: 1 });
  });
});
