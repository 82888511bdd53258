// Fresh events: the events each customer produced since the served models were trained, kept in memory
// and tailed from the store by seq, so a recommendation folds in a purchase made a second ago without a
// query per request. Events this server committed are visible to its next request (noteCommitted);
// events other servers commit on a shared store arrive within one poll.
import type { EventStore } from './store.js';
import type { StoredEvent } from './event.js';

export interface FreshOptions {
  /** Only events after this seq (the oldest training cutoff of the served models; default 0: all). */
  afterSeq?: number;
  /** The latest events kept per customer (default 500). */
  perCustomer?: number;
  /** Events kept in all (default 2,000,000); past it the customers not heard from longest go first. */
  maxEvents?: number;
  /** How often the store is read for events other servers wrote (ms, default 250). */
  pollMs?: number;
}

export class FreshEvents {
  private readonly byCustomer = new Map<string, StoredEvent[]>();
  private through: number;
  private committed = 0;
  private total = 0;
  private reads = 0;
  private reading?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly perCustomer: number;
  private readonly maxEvents: number;
  /** Why the last poll failed (the store unreachable), until one succeeds. */
  lastError?: Error;

  constructor(
    private readonly store: EventStore,
    options: FreshOptions = {},
  ) {
    this.through = options.afterSeq ?? 0;
    this.perCustomer = options.perCustomer ?? 500;
    this.maxEvents = options.maxEvents ?? 2_000_000;
    const pollMs = options.pollMs ?? 250;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.catchUp().catch(() => {}), pollMs);
      this.timer.unref();
    }
  }

  /** The seq the index has read through. */
  get seq(): number {
    return this.through;
  }

  /** Events held. */
  get size(): number {
    return this.total;
  }

  /** An append of this server committed through `seq`: the next read waits for it. */
  noteCommitted(seq: number): void {
    if (seq > this.committed) this.committed = seq;
  }

  /** Reads what the store holds past the index (one read at a time; callers share it). */
  catchUp(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const page = await this.store.scan({ afterSeq: this.through, limit: 10_000 });
        for (const e of page) this.add(e);
        if (page.length > 0) this.through = page[page.length - 1].seq;
        if (page.length < 10_000) break;
      }
      // Customers forgotten through another server on a shared store: their tombstones, every 20th read.
      if (++this.reads % 20 === 0) await this.readTombstones();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      throw err;
    }
  }

  private add(e: StoredEvent): void {
    let list = this.byCustomer.get(e.customer);
    if (list) this.byCustomer.delete(e.customer); // re-inserted last: the map's order is "least recently heard from" first
    else list = [];
    list.push(e);
    this.total++;
    if (list.length > this.perCustomer) (list.shift(), this.total--);
    this.byCustomer.set(e.customer, list);
    while (this.total > this.maxEvents) {
      const [oldest, events] = this.byCustomer.entries().next().value as [string, StoredEvent[]];
      this.byCustomer.delete(oldest);
      this.total -= events.length;
    }
  }

  /** A customer's events after `afterSeq`, oldest first, including everything this server committed. */
  async eventsOf(key: string, afterSeq = 0): Promise<StoredEvent[]> {
    if (this.committed > this.through) await this.catchUp();
    const list = this.byCustomer.get(key);
    return list ? list.filter((e) => e.seq > afterSeq) : [];
  }

  /**
   * Tombstones not seen before (erasures through other servers): their events dropped here, and
   * `onForgotten` told, so the server rewrites what it serves.
   */
  async readTombstones(): Promise<void> {
    const fresh: [string, number][] = [];
    for (const [key, at] of await this.store.tombstones()) {
      if (this.tombstones.get(key) === at) continue;
      this.tombstones.set(key, at);
      this.dropThrough(key, at);
      fresh.push([key, at]);
    }
    if (fresh.length > 0) this.onForgotten?.(fresh);
  }

  /** Tombstones this index knows of (set by readTombstones and forget). */
  private readonly tombstones = new Map<string, number>();
  /** Called with erasures read from the store that this index had not seen. */
  onForgotten?: (forgotten: [key: string, at: number][]) => void;

  /** Drops a forgotten customer's events (after a read in flight, which may have fetched them before the erasure). */
  async forget(key: string, at = Infinity): Promise<void> {
    await this.reading?.catch(() => {});
    if (Number.isFinite(at)) this.tombstones.set(key, at);
    this.dropThrough(key, at);
  }

  private dropThrough(key: string, at: number): void {
    const list = this.byCustomer.get(key);
    if (!list) return;
    const kept = list.filter((e) => e.time > at);
    this.total -= list.length - kept.length;
    if (kept.length === 0) this.byCustomer.delete(key);
    else this.byCustomer.set(key, kept);
  }

  /** Drops events every served model has been trained on (seq ≤ seq), or older than a retention cutoff. */
  prune(test: { throughSeq?: number; before?: number }): void {
    for (const [key, list] of this.byCustomer) {
      const kept = list.filter((e) => !(e.seq <= (test.throughSeq ?? -1) || e.time < (test.before ?? -Infinity)));
      this.total -= list.length - kept.length;
      if (kept.length === 0) this.byCustomer.delete(key);
      else if (kept.length !== list.length) this.byCustomer.set(key, kept);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
