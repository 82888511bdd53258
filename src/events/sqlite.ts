// The embedded events store: one SQLite file (WAL), written by a worker thread (sqlite-worker.ts) so no
// query or fsync runs on the event loop. Needs the optional peer dependency better-sqlite3 (v12).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { storeError, type BatchResult, type PendingBatch, type RecordTable, type ScanRange, type StoreBackend } from './backend.js';
import type { StoredEvent } from './event.js';

/** better-sqlite3's entry point, or a clear error saying how to get it. */
export function sqliteDriver(): string {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3');
  } catch {
    throw new AffinityError('the SQLite events store needs better-sqlite3: npm install better-sqlite3@12', ErrorCode.Unsupported);
  }
}

/**
 * The worker: the compiled JavaScript beside this module, or (running from the TypeScript sources, as the
 * tests do) the .ts file through tsx's loader, registered inside the worker.
 */
function startWorker(workerData: object): Worker {
  const js = new URL('./sqlite-worker.js', import.meta.url);
  if (existsSync(js)) return new Worker(js, { workerData });
  const tsx = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs'); // its ESM entry
  const ts = new URL('./sqlite-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(pathToFileURL(tsx).href)}).then((api) => { api.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class SqliteBackend implements StoreBackend {
  readonly kind = 'sqlite';
  readonly checksJson = true;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private next = 1;
  private failure?: AffinityError;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; message?: string; code?: string }) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (this.calls.size === 0) worker.unref(); // an idle store does not keep the process alive; a call in flight does
      if (m.ok) call.resolve(m.result);
      else call.reject(storeError('SQLite', new Error(m.message)));
    });
    const fail = (err: unknown) => {
      this.failure ??= storeError('SQLite', err instanceof Error ? err : new Error(`the worker stopped (${String(err)})`));
      for (const call of this.calls.values()) call.reject(this.failure);
      this.calls.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the store's worker exited with code ${code}`)));
  }

  /** @param pseudonymizeKey the key the worker pseudonymizes the customers of JSON bodies with */
  static async open(path: string, pseudonymizeKey?: string): Promise<SqliteBackend> {
    const driver = sqliteDriver();
    const file = resolve(path);
    await mkdir(dirname(file), { recursive: true });
    const worker = startWorker({ path: file, driver, pseudonymizeKey });
    const backend = new SqliteBackend(worker);
    await new Promise<void>((ok, fail) => {
      backend.calls.set(0, { resolve: () => ok(), reject: fail });
    });
    return backend;
  }

  private call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      if (this.calls.size === 0) this.worker.ref();
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  append(groups: PendingBatch[]) {
    return this.call<{ counts: BatchResult[]; lastSeq: number }>('append', groups);
  }
  eventsOf(customer: string) {
    return this.call<StoredEvent[]>('eventsOf', customer);
  }
  scan(range: ScanRange) {
    return this.call<StoredEvent[]>('scan', range);
  }
  lastSeq() {
    return this.call<number>('lastSeq');
  }
  count() {
    return this.call<number>('count');
  }
  forget(customer: string, at: number) {
    return this.call<number>('forget', customer, at);
  }
  async tombstones() {
    return new Map(await this.call<[string, number][]>('tombstones'));
  }
  deleteBefore(time: number) {
    return this.call<number>('deleteBefore', time);
  }
  addRecord(table: RecordTable, key: string, at: number, record: object) {
    return this.call<void>('addRecord', table, key, at, record);
  }
  records(table: RecordTable, key?: string) {
    return this.call<{ key: string; at: number; record: Record<string, unknown> }[]>('records', table, key);
  }
  async close(): Promise<void> {
    if (this.failure) return;
    await this.call('close').catch(() => {});
    this.failure = new AffinityError('the events store is closed', ErrorCode.NotReady);
    await this.worker.terminate();
  }
}
