// What an events database does for the store (SQLite in a worker thread, PostgreSQL through a pool): raw
// operations on customer keys already pseudonymized. EventStore (store.ts) is the one caller.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { NewEvent, StoredEvent } from './event.js';

/** How one append went: stored, skipped as seen before (same id), skipped as of a forgotten customer. */
export interface AppendCounts {
  stored: number;
  duplicates: number;
  forgotten: number;
}

/**
 * A batch waiting for its commit: events already checked, or (back ends that check in their own thread)
 * the JSON text of a request body, parsed and checked there, off the event loop.
 */
export type PendingBatch = NewEvent[] | { json: string };

/** A batch's result: its counts, or why it was refused (a body that did not check; nothing of it stored). */
export type BatchResult = AppendCounts | { refused: string };

/** The tables of records the store keeps beside the events: erasure receipts, trainings. */
export type RecordTable = 'receipts' | 'trainings';

export interface ScanRange {
  /** Only events after this seq (paging). */
  afterSeq?: number;
  /** Event time window, Unix ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  limit?: number;
}

export interface StoreBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** True when append() takes `{ json }` batches (it parses and checks them itself). */
  readonly checksJson: boolean;
  /** Appends batches in one transaction (refused ones aside); results per batch, and the last seq after it. */
  append(groups: PendingBatch[]): Promise<{ counts: BatchResult[]; lastSeq: number }>;
  eventsOf(customer: string): Promise<StoredEvent[]>;
  /** Events in seq order within a range. */
  scan(range: ScanRange): Promise<StoredEvent[]>;
  lastSeq(): Promise<number>;
  count(): Promise<number>;
  /** Deletes a customer's events and leaves a tombstone at `at`, in one transaction. */
  forget(customer: string, at: number): Promise<number>;
  /** Tombstones: customer -> when forgotten (Unix ms). */
  tombstones(): Promise<Map<string, number>>;
  /** Deletes events older than `time` (Unix ms); how many. */
  deleteBefore(time: number): Promise<number>;
  addRecord(table: RecordTable, key: string, at: number, record: object): Promise<void>;
  records(table: RecordTable, key?: string): Promise<{ key: string; at: number; record: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

/**
 * Group commit: appends that arrive while a transaction is being written wait and go together in the next
 * one (one fsync for all), each answered with its own counts. More queued events than `maxQueued` are
 * refused with ERR_AFFINITY_BUSY (503 with Retry-After), never dropped.
 */
export class GroupCommit {
  private waiting: { batch: PendingBatch; size: number; resolve: (r: AppendCounts & { lastSeq: number }) => void; reject: (e: unknown) => void }[] = [];
  private queued = 0;
  private writing = false;

  constructor(
    private readonly write: (groups: PendingBatch[]) => Promise<{ counts: BatchResult[]; lastSeq: number }>,
    readonly maxQueued: number,
    private readonly maxGroup = 50_000,
  ) {}

  /** Events accepted but not yet committed (JSON bodies counted by their events' "type" keys). */
  get pending(): number {
    return this.queued;
  }

  append(batch: PendingBatch): Promise<AppendCounts & { lastSeq: number }> {
    const size = Array.isArray(batch) ? batch.length : eventsIn(batch.json);
    if (this.queued > 0 && this.queued + size > this.maxQueued)
      return Promise.reject(new AffinityError(`the events queue is full (${this.queued} events waiting to be written); retry shortly`, ErrorCode.Busy));
    this.queued += size;
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, size, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.waiting.length === 0) return;
    let size = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || size + this.waiting[n].size <= this.maxGroup)) size += this.waiting[n++].size;
    const batch = this.waiting.splice(0, n);
    this.writing = true;
    this.write(batch.map((b) => b.batch)).then(
      ({ counts, lastSeq }) =>
        batch.forEach((b, i) => {
          const r = counts[i];
          if ('refused' in r) b.reject(badInput(r.refused));
          else b.resolve({ ...r, lastSeq });
        }),
      (err) => batch.forEach((b) => b.reject(err)),
    ).finally(() => {
      this.queued -= size;
      this.writing = false;
      this.flush();
    });
  }

  /** Resolves once everything queued is written (or failed). */
  async drain(): Promise<void> {
    while (this.writing || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

/** About how many events a JSON body holds (each has a "type"): for the queue bound, before it is parsed. */
function eventsIn(json: string): number {
  let n = 0;
  for (let at = json.indexOf('"type"'); at >= 0; at = json.indexOf('"type"', at + 6)) n++;
  return Math.max(1, n);
}

/** A database failure as an AffinityError that names the store, not the server's paths. */
export function storeError(kind: string, err: unknown): AffinityError {
  if (err instanceof AffinityError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AffinityError(`the ${kind} events store failed: ${message}`, ErrorCode.Io, { cause: err });
}
