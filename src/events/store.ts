// The events store: what customers did, kept in SQLite (embedded, one file) or PostgreSQL (shared by
// several servers), behind one interface. Every write is validated as a batch, idempotent by event id,
// group-committed, and refused (never dropped) when the queue is full. Customer ids are pseudonymized here
// when a key is set, so no backend ever sees them.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { Id } from '../data/ids.js';
import { GroupCommit, type RecordTable, type ScanRange, type StoreBackend } from './backend.js';
import { checkEvents, checkEventsJson, Pseudonyms, type EventInput, type NewEvent, type StoredEvent } from './event.js';
import { PostgresBackend } from './postgres.js';
import { SqliteBackend } from './sqlite.js';

export interface StoreOptions {
  /** Store HMAC-SHA-256 pseudonyms of customer ids instead of the ids (a secret of 16+ characters). */
  pseudonymizeKey?: string;
  /** Events accepted but not yet committed before appends are refused with ERR_AFFINITY_BUSY (default 200,000). */
  maxQueued?: number;
  /** PostgreSQL connections (default 8). */
  poolSize?: number;
}

export interface AppendResult {
  /** Events written. */
  stored: number;
  /** Events whose id was stored before (not written again). */
  duplicates: number;
  /** Events of customers forgotten after the event's time (not written: erasure is final). */
  forgotten: number;
  /** The store's last seq once this append committed. */
  lastSeq: number;
}

/** An erasure receipt: what a forget removed, kept in the store's audit records. */
export interface ForgetReceipt {
  customer: Id;
  eventsDeleted: number;
  modelsUpdated: { name: string; version: number }[];
  /** Served models that knew the customer and could not be rewritten without them (empty when all could). */
  modelsNotUpdated?: { name: string; reason: string }[];
  at: string;
}

/** A store spec without the credentials of its URL (for errors, logs and /v1/models). */
function redacted(spec: string): string {
  return spec.replace(/\/\/[^@/]*@/, '//***@');
}

/** `sqlite:PATH`, a path ending in .db / .sqlite / .sqlite3, or `postgres://` / `postgresql://` URLs. */
export function parseStoreSpec(spec: string): { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string } {
  if (typeof spec !== 'string' || spec.length === 0) throw badInput('a store is sqlite:PATH or postgres://...');
  if (/^postgres(ql)?:\/\//.test(spec)) return { kind: 'postgres', url: spec };
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0) throw badInput('sqlite: needs a file path (sqlite:./events.db)');
    return { kind: 'sqlite', path };
  }
  if (/\.(db|sqlite3?)$/.test(spec)) return { kind: 'sqlite', path: spec };
  throw badInput(`unknown store ${JSON.stringify(redacted(spec))}: use sqlite:PATH or postgres://...`);
}

export class EventStore {
  private readonly queue: GroupCommit;
  private closed = false;

  private constructor(
    private readonly backend: StoreBackend,
    readonly pseudonyms: Pseudonyms,
    /** Where the store is, without credentials (for logs and /v1/models). */
    readonly location: string,
    maxQueued: number,
  ) {
    this.queue = new GroupCommit((groups) => backend.append(groups), maxQueued);
  }

  /** Opens (creating and migrating as needed) the store a spec names: see parseStoreSpec. */
  static async open(spec: string, options: StoreOptions = {}): Promise<EventStore> {
    const where = parseStoreSpec(spec);
    const pseudonyms = new Pseudonyms(options.pseudonymizeKey);
    const maxQueued = options.maxQueued ?? 200_000;
    if (!Number.isInteger(maxQueued) || maxQueued < 1) throw badInput('maxQueued must be a positive integer');
    if (where.kind === 'sqlite') return new EventStore(await SqliteBackend.open(where.path, options.pseudonymizeKey), pseudonyms, `sqlite:${where.path}`, maxQueued);
    return new EventStore(await PostgresBackend.open(where.url, options), pseudonyms, redacted(where.url), maxQueued);
  }

  get kind(): 'sqlite' | 'postgres' {
    return this.backend.kind;
  }

  /** Events accepted and waiting for their commit. */
  get pending(): number {
    return this.queue.pending;
  }

  /** The key a customer's events are stored under: the id as text, or its pseudonym. */
  keyOf(customer: Id): string {
    return this.pseudonyms.of(customer);
  }

  private open(): StoreBackend {
    if (this.closed) throw new AffinityError('the events store is closed', ErrorCode.NotReady);
    return this.backend;
  }

  /**
   * Validates and stores events (one or a batch of up to 10,000): all or nothing on validation; resolves
   * once they are committed.
   */
  async append(events: EventInput | EventInput[] | unknown): Promise<AppendResult> {
    return this.appendChecked(checkEvents(events));
  }

  /**
   * Stores the events of a JSON text (a request body: one event or an array), checked as a batch like
   * append(). The SQLite store parses and checks it in its worker thread, so a large batch costs the event
   * loop next to nothing.
   */
  async appendJson(json: string): Promise<AppendResult> {
    if (typeof json !== 'string') throw badInput('appendJson takes the JSON text of events');
    const backend = this.open();
    if (!backend.checksJson) return this.appendChecked(checkEventsJson(json));
    return this.queue.append({ json });
  }

  /** @internal Events checkEvents has normalized (ingest paths that validated already). */
  appendChecked(events: NewEvent[]): Promise<AppendResult> {
    this.open();
    return this.queue.append(this.pseudonyms.apply(events));
  }

  /** Everything stored about a customer, oldest first. */
  eventsOf(customer: Id): Promise<StoredEvent[]> {
    return this.open().eventsOf(this.keyOf(customer));
  }

  /** Events in seq order within a range (at most `limit`, default 10,000: page with afterSeq). */
  scan(range: ScanRange = {}): Promise<StoredEvent[]> {
    return this.open().scan(range);
  }

  /** Pages of events in seq order over a time window, for training and exports. */
  async *pages(range: Omit<ScanRange, 'afterSeq' | 'limit'> & { afterSeq?: number; throughSeq?: number; pageSize?: number } = {}): AsyncGenerator<StoredEvent[]> {
    let after = range.afterSeq ?? 0;
    const limit = range.pageSize ?? 20_000;
    for (;;) {
      let page = await this.scan({ afterSeq: after, from: range.from, to: range.to, limit });
      if (range.throughSeq !== undefined) page = page.filter((e) => e.seq <= range.throughSeq!);
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].seq;
      if (page.length < limit || (range.throughSeq !== undefined && after >= range.throughSeq)) return;
    }
  }

  lastSeq(): Promise<number> {
    return this.open().lastSeq();
  }

  count(): Promise<number> {
    return this.open().count();
  }

  /** Deletes a customer's events and leaves a tombstone, so no later append or retrain brings them back. */
  async forget(customer: Id, at = Date.now()): Promise<{ key: string; eventsDeleted: number; at: number }> {
    await this.queue.drain(); // appends accepted before the erasure are erased with it
    const key = this.keyOf(customer);
    return { key, eventsDeleted: await this.open().forget(key, at), at };
  }

  /** Forgotten customers' keys and when they were forgotten (Unix ms). */
  tombstones(): Promise<Map<string, number>> {
    return this.open().tombstones();
  }

  /** Deletes events older than `days` days; how many went. */
  async deleteOlderThan(days: number, now = Date.now()): Promise<number> {
    if (typeof days !== 'number' || !(days > 0) || !Number.isFinite(days)) throw badInput('retention must be a positive number of days');
    return this.open().deleteBefore(now - days * 86_400_000);
  }

  addRecord(table: RecordTable, key: string, record: object, at = Date.now()): Promise<void> {
    return this.open().addRecord(table, key, at, record);
  }

  /** Audit records (erasure receipts) or training records, oldest first, all or those under one key. */
  records(table: RecordTable, key?: string) {
    return this.open().records(table, key);
  }

  /** Waits for queued appends, then closes the connection(s). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.drain();
    this.closed = true;
    await this.backend.close();
  }
}
