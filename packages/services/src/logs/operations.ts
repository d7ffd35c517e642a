import type { OperationRecord } from '@zkha/core';
import { listOperations, operationsSince, recordOperation, type Db, type RecordOperationInput } from '@zkha/db';

import { currentActor } from './actor.ts';
import type { AppEvents } from '../shared/event-bus.ts';

/** The audit trail: every operation is written to the database, then announced to live subscribers. */
export class OperationsService {
  constructor(
    private readonly db: Db,
    private readonly events: AppEvents,
  ) {}

  /** Records who acted too: the caller's identity inside a request, `system` for timers and recovery. */
  record(input: RecordOperationInput): OperationRecord {
    const op = recordOperation(this.db, { ...input, actor: input.actor ?? currentActor() });
    this.events.emit('operation', op);
    return op;
  }

  list(opts: Parameters<typeof listOperations>[1]) {
    return listOperations(this.db, opts);
  }

  since(id: number): OperationRecord[] {
    return operationsSince(this.db, id);
  }
}
