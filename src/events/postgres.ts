// The shared events store: PostgreSQL through a connection pool (the optional peer dependency `pg`), for
// several servers on one store. Appends and erasures take one advisory lock, so seq order is commit order
// and a server tailing the store by seq never skips an event committed late.
import { createRequire } from 'node:module';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { storeError, type AppendCounts, type PendingBatch, type RecordTable, type ScanRange, type StoreBackend } from './backend.js';
import type { NewEvent, StoredEvent } from './event.js';

type Pool = import('pg').Pool;
type PoolClient = import('pg').PoolClient;

/** The lock every write that changes the events takes (an arbitrary constant: "affinity" in ASCII). */
const WRITE_LOCK = 0x6166666e;

/** Schema versions, applied in order at start by whichever server gets the lock first. */
const MIGRATIONS = [
  `CREATE TABLE affinity_events (
     seq bigserial PRIMARY KEY, id text UNIQUE, type text NOT NULL, customer text NOT NULL, item text,
     value double precision, amount double precision, basket text, time bigint NOT NULL, attributes jsonb);
   CREATE INDEX affinity_events_customer ON affinity_events (customer, time);
   CREATE INDEX affinity_events_time ON affinity_events (time);
   CREATE TABLE affinity_tombstones (customer text PRIMARY KEY, at bigint NOT NULL);
   CREATE TABLE affinity_records (seq bigserial PRIMARY KEY, tab text NOT NULL, key text NOT NULL, at bigint NOT NULL, record jsonb NOT NULL);
   CREATE INDEX affinity_records_key ON affinity_records (tab, key);`,
];

/** The last seq handed out (the sequence, not max(seq): a forgotten customer's deleted rows must not make seq numbers look unused). */
const LAST_SEQ = 'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS seq FROM affinity_events_seq_seq';
const COLUMNS = 'seq, id, type, customer, item, value, amount, basket, time, attributes';

function rowOf(r: Record<string, unknown>): StoredEvent {
  return { ...(r as unknown as StoredEvent), seq: Number(r.seq), time: Number(r.time) };
}

export class PostgresBackend implements StoreBackend {
  readonly kind = 'postgres';
  readonly checksJson = false;
  private constructor(private readonly pool: Pool) {}

  static async open(url: string, options: { poolSize?: number } = {}): Promise<PostgresBackend> {
    let pg: typeof import('pg');
    try {
      pg = createRequire(import.meta.url)('pg') as typeof import('pg');
    } catch {
      throw new AffinityError('the PostgreSQL events store needs pg: npm install pg', ErrorCode.Unsupported);
    }
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 8, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => {}); // an idle client's connection dropping; the next query reports it
    const backend = new PostgresBackend(pool);
    try {
      await backend.migrate();
    } catch (err) {
      await pool.end().catch(() => {});
      throw storeError('PostgreSQL', err);
    }
    return backend;
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS affinity_schema (version integer NOT NULL)');
      const { rows } = await c.query<{ version: number }>('SELECT version FROM affinity_schema');
      const from = rows[0]?.version ?? 0;
      if (from > MIGRATIONS.length) throw new Error(`the store's schema is version ${from}, newer than this Affinity knows (${MIGRATIONS.length})`);
      for (let v = from; v < MIGRATIONS.length; v++) await c.query(MIGRATIONS[v]);
      if (rows.length === 0) await c.query('INSERT INTO affinity_schema (version) VALUES ($1)', [MIGRATIONS.length]);
      else await c.query('UPDATE affinity_schema SET version = $1', [MIGRATIONS.length]);
    });
  }

  private async transaction<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect().catch((err) => Promise.reject(storeError('PostgreSQL', err)));
    try {
      await c.query('BEGIN');
      const result = await work(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw storeError('PostgreSQL', err);
    } finally {
      c.release();
    }
  }

  private async query<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (err) {
      throw storeError('PostgreSQL', err);
    }
  }

  append(batches: PendingBatch[]): Promise<{ counts: AppendCounts[]; lastSeq: number }> {
    const groups = batches.map((b) => {
      if (!Array.isArray(b)) throw new AffinityError('the PostgreSQL store takes checked events', ErrorCode.Internal);
      return b;
    });
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      const customers = [...new Set(groups.flat().map((e) => e.customer))];
      const { rows: gone } = await c.query<{ customer: string; at: string }>('SELECT customer, at FROM affinity_tombstones WHERE customer = ANY($1)', [customers]);
      const forgottenAt = new Map(gone.map((r) => [r.customer, Number(r.at)]));
      const counts: AppendCounts[] = [];
      for (const group of groups) {
        const kept = group.filter((e) => !(e.time <= (forgottenAt.get(e.customer) ?? -Infinity)));
        let stored = 0;
        if (kept.length > 0) {
          const column = <K extends keyof NewEvent>(k: K) => kept.map((e) => e[k]);
          const r = await c.query(
            `INSERT INTO affinity_events (id, type, customer, item, value, amount, basket, time, attributes)
             SELECT id, type, customer, item, value, amount, basket, time, attributes::jsonb
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::int8[], $9::text[])
               AS x (id, type, customer, item, value, amount, basket, time, attributes)
             ON CONFLICT (id) DO NOTHING`,
            [column('id'), column('type'), column('customer'), column('item'), column('value'), column('amount'), column('basket'), column('time'), kept.map((e) => (e.attributes === null ? null : JSON.stringify(e.attributes)))],
          );
          stored = r.rowCount ?? 0;
        }
        counts.push({ stored, duplicates: kept.length - stored, forgotten: group.length - kept.length });
      }
      const { rows } = await c.query<{ seq: string | null }>(LAST_SEQ);
      return { counts, lastSeq: Number(rows[0].seq ?? 0) };
    });
  }

  async eventsOf(customer: string): Promise<StoredEvent[]> {
    return (await this.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM affinity_events WHERE customer = $1 ORDER BY time, seq`, [customer])).map(rowOf);
  }

  async scan(range: ScanRange): Promise<StoredEvent[]> {
    const rows = await this.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM affinity_events WHERE seq > $1 AND time >= $2 AND time < $3 ORDER BY seq LIMIT $4`, [
      range.afterSeq ?? 0,
      range.from ?? -Number.MAX_SAFE_INTEGER,
      range.to ?? Number.MAX_SAFE_INTEGER,
      range.limit ?? 10_000,
    ]);
    return rows.map(rowOf);
  }

  async lastSeq(): Promise<number> {
    const rows = await this.query<{ seq: string | null }>(LAST_SEQ);
    return Number(rows[0]?.seq ?? 0);
  }

  async count(): Promise<number> {
    return Number((await this.query<{ n: string }>('SELECT count(*) AS n FROM affinity_events'))[0].n);
  }

  forget(customer: string, at: number): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      const r = await c.query('DELETE FROM affinity_events WHERE customer = $1', [customer]);
      await c.query('INSERT INTO affinity_tombstones (customer, at) VALUES ($1, $2) ON CONFLICT (customer) DO UPDATE SET at = excluded.at', [customer, at]);
      return r.rowCount ?? 0;
    });
  }

  async tombstones(): Promise<Map<string, number>> {
    const rows = await this.query<{ customer: string; at: string }>('SELECT customer, at FROM affinity_tombstones');
    return new Map(rows.map((r) => [r.customer, Number(r.at)]));
  }

  async deleteBefore(time: number): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      return (await c.query('DELETE FROM affinity_events WHERE time < $1', [time])).rowCount ?? 0;
    });
  }

  async addRecord(table: RecordTable, key: string, at: number, record: object): Promise<void> {
    await this.query('INSERT INTO affinity_records (tab, key, at, record) VALUES ($1, $2, $3, $4)', [table, key, at, JSON.stringify(record)]);
  }

  async records(table: RecordTable, key?: string) {
    const rows = await this.query<{ key: string; at: string; record: Record<string, unknown> }>(
      `SELECT key, at, record FROM affinity_records WHERE tab = $1${key === undefined ? '' : ' AND key = $2'} ORDER BY seq`,
      key === undefined ? [table] : [table, key],
    );
    return rows.map((r) => ({ ...r, at: Number(r.at) }));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
