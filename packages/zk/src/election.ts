/**
 * ZooKeeper's leader-election recipe: each candidate creates an ephemeral sequential znode under one root; the
 * lowest sequence leads; every other candidate watches only the znode just before its own, so a leader's exit wakes
 * its one successor, not the whole herd. Leadership is also a lease: a leader counts itself leader only while its
 * last confirmation (its znode still there and still the lowest, read through its session) is younger than
 * `leaseMs`, so a process paused past its session timeout (SIGSTOP, a long GC) knows it may have lost the lead
 * before anything it runs on resume can act on it.
 */
import { EventEmitter } from 'node:events';

import { isZkError } from './client.ts';
import { Rerun } from './rerun.ts';
import type { ZkSession } from './session.ts';

const PREFIX = 'n_';
/** How soon a failed look at the candidates is tried again. */
const RETRY_MS = 500;

export interface ElectionOptions {
  /** The election's znode, e.g. /zkha/control/election (created when missing). */
  root: string;
  /** This candidate's identity, stored in its znode (who leads is read from the lowest znode's data). */
  id: string;
  /** How long a confirmation of the lead holds (default 2/3 of the session timeout, 4 s if unknown). */
  leaseMs?: number;
  /**
   * Whether a candidate's stored identity is an earlier incarnation of this one (the same instance, restarted after
   * a crash, its old session not yet expired): such a znode is deleted on joining rather than waited for.
   */
  isEarlierSelf?: (data: string) => boolean;
}

export interface ElectionEvents {
  /** This candidate leads now. */
  elected: [];
  /** This candidate does not lead (any more): stop leader work at once. */
  demoted: [reason: string];
  /** This candidate was woken to look again (its predecessor went, or the session came back). */
  woken: [];
}

export class LeaderElection extends EventEmitter<ElectionEvents> {
  private me: string | null = null;
  private leading = false;
  private confirmedAt = -Infinity;
  private renewTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly looks = new Rerun(
    () => this.checkOnce(),
    () => !this.stopped,
  );
  /** How often this candidate was woken to look again (watches fired, reconnects): a herd would show here. */
  wakeups = 0;
  private readonly leaseMs: number;

  constructor(
    private readonly session: ZkSession,
    private opts: ElectionOptions,
  ) {
    super();
    this.leaseMs = opts.leaseMs ?? 4_000;
    session.on('state', (s) => {
      if (this.stopped) return;
      // The session is gone: its znode with it, and another candidate may lead already. Stop leading now. (Merely
      // disconnected, the session and its znode may live on: the lease runs out meanwhile, so isLeader() turns false
      // while the lead cannot be confirmed, and true again once it is, on reconnection within the session.)
      if (s === 'expired' || s === 'closed') this.demote(`ZooKeeper session ${s}`);
      else if (s === 'connected') this.wake();
    });
    // A new session: the old ephemeral znode is gone; join again.
    session.on('renewed', () => {
      if (this.stopped) return;
      this.me = null;
      this.wake();
    });
  }

  /** Joins the election (idempotent). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.check();
    this.renewTimer = setInterval(() => void this.confirm(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** Leaves the election: its znode is deleted, so the successor takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.demote('stopped');
    const me = this.me;
    this.me = null;
    if (me) await this.session.client.remove(me).catch(() => undefined);
  }

  /**
   * Whether this candidate leads now: elected, connected, and confirmed within the lease. Check it right before
   * each piece of leader work: false the moment the lead may have passed to another.
   */
  isLeader(): boolean {
    return this.leading && performance.now() - this.confirmedAt < this.leaseMs;
  }

  /** This candidate's znode while it takes part (a leader's writes may check it: it is gone once its session is). */
  get znode(): string | null {
    return this.me;
  }

  /** Changes the identity this candidate stores (e.g. once its address is known). */
  setId(id: string): void {
    this.opts = { ...this.opts, id };
    const me = this.me;
    if (me) void this.session.client.set(me, id).catch(() => undefined);
  }

  /** Every candidate's stored identity, the leader first. */
  async candidateData(): Promise<string[]> {
    const kids = await this.candidates();
    const data = await Promise.all(kids.map((k) => this.session.client.get(`${this.opts.root}/${k}`).catch(() => null)));
    return data.filter((d) => d?.data).map((d) => d!.data!.toString('utf8'));
  }

  /** The identity stored by the current leader's znode, or null when there is none. */
  async leader(): Promise<string | null> {
    const kids = await this.candidates();
    for (const k of kids) {
      const data = await this.session.client.get(`${this.opts.root}/${k}`).catch(() => null);
      if (data?.data) return data.data.toString('utf8');
    }
    return null;
  }

  private async candidates(): Promise<string[]> {
    const kids = await this.session.client.children(this.opts.root).catch((err: unknown) => {
      if (isZkError(err, 'NO_NODE')) return [] as string[];
      throw err;
    });
    return kids.filter((k) => k.startsWith(PREFIX)).sort((a, b) => seq(a) - seq(b));
  }

  private wake(): void {
    this.wakeups++;
    this.emit('woken');
    // A look that failed (no answer, a session being replaced) is tried again: a candidate must never drop out.
    void this.check().catch(() => {
      if (!this.stopped) setTimeout(() => this.wake(), RETRY_MS).unref();
    });
  }

  /** Looks at the candidates: lead when first, else watch the one just before. Runs one at a time. */
  private check(): Promise<void> {
    return this.looks.run();
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    const client = this.session.client;
    if (!this.me) {
      await client.mkdirp(this.opts.root);
      if (this.opts.isEarlierSelf) {
        for (const k of await this.candidates()) {
          const path = `${this.opts.root}/${k}`;
          const d = await client.get(path).catch(() => null);
          if (d?.data && this.opts.isEarlierSelf(d.data.toString('utf8'))) await client.remove(path).catch(() => undefined);
        }
      }
      this.me = await client.create(`${this.opts.root}/${PREFIX}`, this.opts.id, 'ephemeral_sequential');
    }
    const me = this.me;
    const sentAt = performance.now();
    const kids = await this.candidates();
    // A new session meanwhile ('renewed' forgets our znode): join again on it.
    if (this.me !== me) {
      this.looks.again();
      return;
    }
    const mine = me.slice(this.opts.root.length + 1);
    const at = kids.indexOf(mine);
    if (at < 0) {
      // Our znode is gone (an expired session the library has not reported yet): join again.
      this.me = null;
      this.demote('our candidate znode is gone');
      this.looks.again();
      return;
    }
    if (at === 0) {
      this.confirmedAt = sentAt;
      if (!this.leading) {
        this.leading = true;
        this.emit('elected');
      }
      return;
    }
    this.demote(`following ${kids[0]}`);
    // Watch only the predecessor; if it went meanwhile, look again.
    const before = `${this.opts.root}/${kids[at - 1]}`;
    const still = await client.watchData(before, () => this.wake());
    if (still === null) this.looks.again();
  }

  /** Renews the lease: our znode still there and still first, read through our session. */
  private async confirm(): Promise<void> {
    if (!this.leading || this.stopped || this.looks.busy) return;
    const sentAt = performance.now();
    try {
      const kids = await this.candidates();
      if (this.me && kids[0] === this.me.slice(this.opts.root.length + 1)) this.confirmedAt = Math.max(this.confirmedAt, sentAt);
      else this.wake();
    } catch {
      // No answer: the lease runs out on its own; the session's state events say the rest.
    }
  }

  private demote(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.confirmedAt = -Infinity;
    this.emit('demoted', reason);
  }
}

function seq(name: string): number {
  return Number(name.slice(PREFIX.length));
}
