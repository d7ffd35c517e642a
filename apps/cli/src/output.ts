import Table from 'cli-table3';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  stdinIsTTY: process.stdin.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
};

export type Cell = string | number | boolean | null | undefined;

/** Human tables by default, one JSON document with `--json`; notes go to stderr in JSON mode so stdout stays parseable. */
export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  line(text: string): void {
    this.io.out(text);
  }

  /** Context for a human (an impact, a hint): stdout normally, stderr under --json. */
  note(text: string): void {
    if (this.json) this.io.err(text);
    else this.io.out(text);
  }

  document(value: unknown): void {
    this.io.out(JSON.stringify(value, null, 2));
  }

  table(head: string[], rows: Cell[][]): void {
    const table = new Table({ head, style: { head: this.io.stdoutIsTTY ? ['cyan'] : [], border: [] } });
    for (const row of rows)
      table.push(row.map((c) => (c === null || c === undefined ? '-' : typeof c === 'boolean' ? (c ? 'yes' : 'no') : c)));
    this.io.out(table.toString());
    if (rows.length === 0) this.io.out('no rows');
  }

  /** For shapes the CLI does not know yet (procedures newer than it): a table of objects, or key/value pairs. */
  generic(value: unknown): void {
    const items = Array.isArray(value)
      ? value
      : value !== null && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items)
        ? (value as { items: unknown[] }).items
        : null;
    if (items !== null) {
      const objects = items.filter((i): i is Record<string, unknown> => i !== null && typeof i === 'object');
      const head = [...new Set(objects.flatMap((o) => Object.keys(o)))];
      if (head.length === 0)
        return this.table(
          ['value'],
          items.map((i) => [scalar(i)]),
        );
      return this.table(
        head,
        objects.map((o) => head.map((k) => scalar(o[k]))),
      );
    }
    if (value !== null && typeof value === 'object') {
      return this.table(
        ['field', 'value'],
        Object.entries(value).map(([k, v]) => [k, scalar(v)]),
      );
    }
    this.line(value === undefined ? 'done' : String(scalar(value)));
  }
}

function scalar(v: unknown): Cell {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}
