import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An agent's sockets on its data port as the kernel counts them: bytes_sent per socket (local + peer), sampled;
 * sockets that close are reported by `ss -E` as the kernel destroys them. Each socket counts from its figure at start.
 */
export class WireCounter {
  private readonly baseline = new Map<string, number>();
  private readonly latest = new Map<string, number>();
  private eventText = '';
  private eventsOn = false;
  private readonly events;

  constructor(private readonly port: string) {
    this.events = spawn('stdbuf', ['-oL', 'ss', '-tinHE', 'sport', '=', `:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.events.stdout.on('data', (c) => {
      if (this.eventsOn) this.eventText += String(c);
    });
  }

  async start(): Promise<void> {
    await sleep(300); // ss subscribed before the first move
    for (const [k, b] of await this.snapshot()) this.baseline.set(k, b);
    this.eventsOn = true;
  }

  /** Bytes sent since start, by the sockets open now and those closed so far. */
  async sample(): Promise<number> {
    for (const [k, b] of await this.snapshot()) this.note(k, b);
    // Sockets closed so far, at their final figure (parsing all again is harmless: each socket keeps its maximum).
    this.parse(this.eventText, (k, b) => this.note(k, b));
    return [...this.latest.entries()].reduce((s, [k, b]) => s + b - (this.baseline.get(k) ?? 0), 0);
  }

  stop(): void {
    this.events.kill();
  }

  private note(k: string, b: number): void {
    this.latest.set(k, Math.max(this.latest.get(k) ?? 0, b));
  }

  private parse(text: string, into: (key: string, bytes: number) => void): void {
    // Whole records only: a socket line and its info line, ended (the events arrive in pieces).
    for (const m of text.matchAll(/^\S+\s+\d+\s+\d+\s+(\S+)\s+(\S+)[^\n]*\n([^\n]*)(?=\n)/gm)) {
      const sent = /bytes_sent:(\d+)/.exec(m[3]!);
      if (sent && m[1]!.endsWith(`:${this.port}`)) into(`${m[1]} ${m[2]}`, Number(sent[1]));
    }
  }

  private async snapshot(): Promise<Map<string, number>> {
    const { stdout } = await run('ss', ['-tinH', 'sport', '=', `:${this.port}`]);
    const seen = new Map<string, number>();
    this.parse(stdout, (k, b) => seen.set(k, b));
    return seen;
  }
}
