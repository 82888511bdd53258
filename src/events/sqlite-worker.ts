// The SQLite events database, in a worker thread: better-sqlite3 is synchronous, and a commit waits for
// fsync, so it runs here and the event loop only posts messages. One connection, WAL mode, FULL sync (a
// commit is on disk when its answer is sent, power loss included).
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { AppendCounts, BatchResult, PendingBatch, RecordTable, ScanRange } from './backend.js';
import { checkEventsJson, Pseudonyms, type NewEvent, type StoredEvent } from './event.js';

type Database = import('better-sqlite3').Database;

/** Schema versions, applied in order at open; the applied version is kept in affinity_schema. */
const MIGRATIONS = [
  `CREATE TABLE affinity_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, type TEXT NOT NULL, customer TEXT NOT NULL,
     item TEXT, value REAL, amount REAL, basket TEXT, time INTEGER NOT NULL, attributes TEXT);
   CREATE INDEX affinity_events_customer ON affinity_events (customer, time);
   CREATE INDEX affinity_events_time ON affinity_events (time);
   CREATE TABLE affinity_tombstones (customer TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE TABLE affinity_records (seq INTEGER PRIMARY KEY AUTOINCREMENT, tab TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL, record TEXT NOT NULL);
   CREATE INDEX affinity_records_key ON affinity_records (tab, key);`,
];
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

const { path, driver, pseudonymizeKey } = workerData as { path: string; driver: string; pseudonymizeKey?: string };
const pseudonyms = new Pseudonyms(pseudonymizeKey);
const BetterSqlite = createRequire(import.meta.url)(driver) as typeof import('better-sqlite3');

function openDatabase(): Database {
  const db = new BetterSqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.exec('CREATE TABLE IF NOT EXISTS affinity_schema (version INTEGER NOT NULL)');
  db.transaction(() => {
    const row = db.prepare('SELECT version FROM affinity_schema').get() as { version: number } | undefined;
    const from = row?.version ?? 0;
    if (from > MIGRATIONS.length) throw new Error(`the store's schema is version ${from}, newer than this Affinity knows (${MIGRATIONS.length})`);
    for (let v = from; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    if (row === undefined) db.prepare('INSERT INTO affinity_schema (version) VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE affinity_schema SET version = ?').run(MIGRATIONS.length);
  }).immediate();
  return db;
}

const db = openDatabase();
const COLUMNS = 'seq, id, type, customer, item, value, amount, basket, time, attributes';
const sql = {
  insert: db.prepare('INSERT INTO affinity_events (id, type, customer, item, value, amount, basket, time, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
  tombstone: db.prepare('SELECT at FROM affinity_tombstones WHERE customer = ?').pluck(),
  lastSeq: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'affinity_events'").pluck(),
  count: db.prepare('SELECT count(*) FROM affinity_events').pluck(),
  eventsOf: db.prepare(`SELECT ${COLUMNS} FROM affinity_events WHERE customer = ? ORDER BY time, seq`),
  scan: db.prepare(`SELECT ${COLUMNS} FROM affinity_events WHERE seq > ? AND time >= ? AND time < ? ORDER BY seq LIMIT ?`),
  deleteCustomer: db.prepare('DELETE FROM affinity_events WHERE customer = ?'),
  addTombstone: db.prepare('INSERT INTO affinity_tombstones (customer, at) VALUES (?, ?) ON CONFLICT (customer) DO UPDATE SET at = excluded.at'),
  tombstones: db.prepare('SELECT customer, at FROM affinity_tombstones'),
  deleteBefore: db.prepare('DELETE FROM affinity_events WHERE time < ?'),
  addRecord: db.prepare('INSERT INTO affinity_records (tab, key, at, record) VALUES (?, ?, ?, ?)'),
  records: db.prepare('SELECT key, at, record FROM affinity_records WHERE tab = ? ORDER BY seq'),
  recordsOf: db.prepare('SELECT key, at, record FROM affinity_records WHERE tab = ? AND key = ? ORDER BY seq'),
};

function appendGroup(events: NewEvent[], gone: Map<string, number | null>): AppendCounts {
  const counts = { stored: 0, duplicates: 0, forgotten: 0 };
  for (const e of events) {
    if (!gone.has(e.customer)) gone.set(e.customer, (sql.tombstone.get(e.customer) as number | undefined) ?? null);
    const at = gone.get(e.customer);
    if (at != null && e.time <= at) {
      counts.forgotten++;
      continue;
    }
    const r = sql.insert.run(e.id, e.type, e.customer, e.item, e.value, e.amount, e.basket, e.time, e.attributes === null ? null : JSON.stringify(e.attributes));
    if (r.changes === 1) counts.stored++;
    else counts.duplicates++;
  }
  return counts;
}

const appendAll = db.transaction((groups: (NewEvent[] | string)[]) => {
  const gone = new Map<string, number | null>();
  const counts = groups.map((g): BatchResult => (typeof g === 'string' ? { refused: g } : appendGroup(g, gone)));
  return { counts, lastSeq: (sql.lastSeq.get() as number | undefined) ?? 0 };
});

/** JSON bodies parsed and checked here, off the event loop: each becomes its events, or why it was refused. */
function checked(batch: PendingBatch): NewEvent[] | string {
  if (Array.isArray(batch)) return batch;
  try {
    return pseudonyms.apply(checkEventsJson(batch.json));
  } catch (err) {
    return (err as Error).message;
  }
}

const forget = db.transaction((customer: string, at: number) => {
  const deleted = sql.deleteCustomer.run(customer).changes;
  sql.addTombstone.run(customer, at);
  return deleted;
});

function rowOf(r: Record<string, unknown>): StoredEvent {
  return { ...(r as unknown as StoredEvent), attributes: r.attributes === null ? null : (JSON.parse(r.attributes as string) as Record<string, unknown>) };
}

const ops: Record<string, (...args: never[]) => unknown> = {
  append: (groups: PendingBatch[]) => appendAll.immediate(groups.map(checked)),
  eventsOf: (customer: string) => sql.eventsOf.all(customer).map((r) => rowOf(r as Record<string, unknown>)),
  scan: (range: ScanRange) =>
    sql.scan.all(range.afterSeq ?? 0, range.from ?? -Number.MAX_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER, range.limit ?? 10_000).map((r) => rowOf(r as Record<string, unknown>)),
  lastSeq: () => (sql.lastSeq.get() as number | undefined) ?? 0,
  count: () => sql.count.get() as number,
  forget: (customer: string, at: number) => forget.immediate(customer, at),
  tombstones: () => (sql.tombstones.all() as { customer: string; at: number }[]).map((r) => [r.customer, r.at]),
  deleteBefore: (time: number) => sql.deleteBefore.run(time).changes,
  addRecord: (table: RecordTable, key: string, at: number, record: object) => void sql.addRecord.run(table, key, at, JSON.stringify(record)),
  records: (table: RecordTable, key?: string) =>
    ((key === undefined ? sql.records.all(table) : sql.recordsOf.all(table, key)) as { key: string; at: number; record: string }[]).map((r) => ({ ...r, record: JSON.parse(r.record) as unknown })),
  close: () => db.close(),
};

parentPort!.on('message', (message: { id: number; op: string; args: never[] }) => {
  try {
    const result = ops[message.op](...message.args);
    parentPort!.postMessage({ id: message.id, ok: true, result });
  } catch (err) {
    const e = err as Error & { code?: string };
    parentPort!.postMessage({ id: message.id, ok: false, message: e.message, code: e.code });
  }
});
parentPort!.postMessage({ id: 0, ok: true, result: 'ready' });
