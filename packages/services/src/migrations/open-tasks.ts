import { listOpenMigrations, updateMigration, updateMigrations, type Db, type MigrationPatch, type MigrationRecord } from '@zkha/db';

/**
 * Open tasks (pending, running, paused) in memory, kept in step with every journal write: a plan of thousands of
 * moves must not be re-read from SQLite each time one move finishes. Read from the journal on first use and after
 * reset() (recovery rewrote it).
 */
export class OpenTasks {
  private rows: Map<number, MigrationRecord> | null = null;

  constructor(
    private readonly db: Db,
    /** A task became pending: the queue's order must be rebuilt. */
    private readonly onPending: () => void,
  ) {}

  /** Forgets the mirror: the next read takes the journal's open tasks again. */
  reset(): void {
    this.rows = null;
  }

  open(): Map<number, MigrationRecord> {
    this.rows ??= new Map(listOpenMigrations(this.db).map((m) => [m.id, m]));
    return this.rows;
  }

  /** Mirrors a journal change in memory. */
  mirror(row: MigrationRecord): MigrationRecord {
    const open = this.open();
    if (row.status === 'pending' || row.status === 'running' || row.status === 'paused') open.set(row.id, row);
    else open.delete(row.id);
    if (row.status === 'pending') this.onPending();
    return row;
  }

  /** Writes a journal change and mirrors it in memory. */
  update(id: number, patch: MigrationPatch, db: Db = this.db): MigrationRecord {
    return this.mirror(updateMigration(db, id, patch));
  }

  /** One journal change for many rows (one statement), mirrored in memory. */
  updateMany(
    rows: readonly MigrationRecord[],
    patch: MigrationPatch,
    write: (ids: number[]) => void = (ids) => updateMigrations(this.db, ids, patch),
  ): MigrationRecord[] {
    if (rows.length === 0) return [];
    write(rows.map((r) => r.id));
    return rows.map((r) => this.mirror({ ...(this.open().get(r.id) ?? r), ...patch }));
  }
}
