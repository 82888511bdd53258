// Interactions: who did what, as a users x items sparse matrix with the caller's ids on both axes.
import { createReadStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import { native, type NativeCsr } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { checkId, idProblem, IdMap, internIds, type Id } from './ids.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { oneOf, intOption } from '../core/options.js';
import { readNpy, writeNpy, toInt32, toFloat32 } from '../io/npy.js';
import { readFirstLine, writeFileAtomic } from '../io/files.js';
import { sniffDelimiter } from '../io/csv.js';
import { columnHint, readTransactionRows, type RowFilter } from '../io/transactionfile.js';
import { openTable, tableFormatOf, type TableFormat } from '../io/tablefile.js';

export type DuplicatePolicy = 'sum' | 'max' | 'last';
const DUPLICATES: readonly DuplicatePolicy[] = ['sum', 'max', 'last'];

/**
 * What a pair's stored value is: the merged values as given ('raw', the default), 1 for every pair that
 * occurred ('binary'), the number of rows of the pair whatever their values ('count'), or log(1 + merged
 * value) ('log1p', which damps heavy buyers; merged values must be >= 0).
 */
export type ValueTransform = 'raw' | 'binary' | 'count' | 'log1p';
export const VALUE_TRANSFORMS: readonly ValueTransform[] = ['raw', 'binary', 'count', 'log1p'];

export interface BuildOptions extends JobOptions {
  /** How repeated (user, item) pairs merge: add values (default), keep the largest, or keep the last. */
  duplicates?: DuplicatePolicy;
  /** The stored value of each pair (default 'raw'); 'binary' and 'count' ignore the values and `duplicates`. */
  value?: ValueTransform;
}

export interface FromArraysInput {
  users: ArrayLike<Id>;
  items: ArrayLike<Id>;
  /** Interaction strength (rating, count, spend). Defaults to 1 for every pair. */
  values?: ArrayLike<number>;
  /** Unix time in seconds, or Date objects. */
  timestamps?: ArrayLike<number | Date>;
}

export interface FromIndicesInput {
  rows: Int32Array;
  cols: Int32Array;
  values?: Float32Array;
  timestamps?: Float64Array;
  shape: [number, number];
  userIds?: readonly Id[];
  itemIds?: readonly Id[];
}

export interface CsrInput {
  indptr: ArrayLike<number> | BigInt64Array;
  indices: ArrayLike<number> | BigInt64Array;
  data: ArrayLike<number>;
  shape: [number, number];
  userIds?: readonly Id[];
  itemIds?: readonly Id[];
}

export interface FileOptions extends BuildOptions {
  format?: 'csv' | 'tsv';
  /** Column names (with a header) or 0-based positions. Defaults: user, item, value, timestamp at 0..3 for headerless files. */
  columns?: { user: string | number; item: string | number; value?: string | number; timestamp?: string | number };
  header?: boolean;
  delimiter?: string;
  /** Skip malformed lines (counted in `skippedLines`) instead of failing on the first one. */
  skipInvalid?: boolean;
  /**
   * Keep only the rows meeting these column conditions, as Transactions.fromFile (`{ Quantity: { gt: 0 } }`);
   * rows left out are counted in `filteredLines`. Files read with `where` go through the general CSV reader
   * (RFC 4180 quoting, sniffed delimiter) rather than the native streaming one.
   */
  where?: RowFilter;
}

export class Interactions {
  /** Lines skipped while reading a file with `skipInvalid`. */
  skippedLines = 0;
  /** Lines a file's `where` conditions left out. */
  filteredLines = 0;

  private constructor(
    readonly users: IdMap,
    readonly items: IdMap,
    /** users x items, rows sorted by item index, duplicates merged. Do not mutate. */
    readonly csr: NativeCsr,
  ) {}

  get userCount(): number {
    return this.csr.rows;
  }
  get itemCount(): number {
    return this.csr.cols;
  }
  /** Number of stored (user, item) pairs after merging duplicates. */
  get size(): number {
    return this.csr.indices.length;
  }
  get hasTimestamps(): boolean {
    return this.csr.timestamps != null;
  }
  /** Bytes held by the matrix arrays (ids not included). */
  get byteLength(): number {
    const c = this.csr;
    return c.indptr.byteLength + c.indices.byteLength + c.data.byteLength + (c.timestamps?.byteLength ?? 0);
  }

  /** The items of one user with their values. */
  itemsOf(user: Id): { item: Id; value: number }[] {
    const u = this.users.indexOf(user);
    const out: { item: Id; value: number }[] = [];
    for (let p = this.csr.indptr[u]; p < this.csr.indptr[u + 1]; p++)
      out.push({ item: this.items.ids[this.csr.indices[p]], value: this.csr.data[p] });
    return out;
  }

  /**
   * The same interactions without some users (their rows and ids gone; items kept, with their indices):
   * what erasure leaves. `touched` lists the items those users had, the rows a model must re-solve.
   */
  withoutUsers(users: Iterable<Id>): { data: Interactions; touched: Int32Array } {
    const drop = new Set<number>();
    for (const u of users) {
      const i = this.users.find(u);
      if (i >= 0) drop.add(i);
    }
    if (drop.size === 0) return { data: this, touched: new Int32Array(0) };
    const { indptr, indices, data, timestamps } = this.csr;
    const kept = this.csr.rows - drop.size;
    let nnz = 0;
    const touched = new Set<number>();
    for (const u of drop) for (let p = indptr[u]; p < indptr[u + 1]; p++) touched.add(indices[p]);
    for (const u of drop) nnz += indptr[u + 1] - indptr[u];
    nnz = indices.length - nnz;
    const out = { rows: kept, cols: this.csr.cols, indptr: new Int32Array(kept + 1), indices: new Int32Array(nnz), data: new Float32Array(nnz), timestamps: timestamps ? new Float64Array(nnz) : null };
    const ids: Id[] = [];
    let row = 0;
    let at = 0;
    for (let u = 0; u < this.csr.rows; u++) {
      if (drop.has(u)) continue;
      const from = indptr[u];
      const to = indptr[u + 1];
      out.indices.set(indices.subarray(from, to), at);
      out.data.set(data.subarray(from, to), at);
      if (timestamps && out.timestamps) out.timestamps.set(timestamps.subarray(from, to), at);
      at += to - from;
      out.indptr[++row] = at;
      ids.push(this.users.ids[u]);
    }
    return { data: new Interactions(new IdMap(ids, 'user'), this.items, out), touched: Int32Array.from([...touched].sort((a, b) => a - b)) };
  }

  /** How many users interacted with each item (stored pairs; values ignored). Computed once and cached. */
  itemCounts(): Float64Array {
    this.counts ??= Float64Array.from(this.integerCounts());
    return this.counts;
  }
  private counts?: Float64Array;

  /** Item indices, most interacted with first (ties: lower index first). Computed once and cached. */
  itemsByPopularity(): Int32Array {
    this.popularity ??= native.orderByCount(this.integerCounts());
    return this.popularity;
  }
  private popularity?: Int32Array;

  private integerCounts(): Int32Array {
    this.columnCounts ??= native.columnCounts(this.csr);
    return this.columnCounts;
  }
  private columnCounts?: Int32Array;

  /** The items x users matrix (the CSC of `csr`), built natively; computed once and cached. */
  async toCSC(options: JobOptions = {}): Promise<NativeCsr> {
    this.csc ??= runJob(options, (cancel, progress) => native.transpose(this.csr, cancel, progress));
    try {
      return await this.csc;
    } catch (err) {
      this.csc = undefined;
      throw err;
    }
  }
  private csc?: Promise<NativeCsr>;

  /** @internal Wraps verified parts (model files) without copying. */
  static fromParts(users: IdMap, items: IdMap, csr: NativeCsr): Interactions {
    return new Interactions(users, items, csr);
  }

  /** Builds from parallel arrays of caller ids. Ids keep their first-seen order. */
  static async fromArrays(input: FromArraysInput, options: BuildOptions = {}): Promise<Interactions> {
    if (input === null || typeof input !== 'object') throw badInput('fromArrays needs { users, items, values?, timestamps? }');
    const { users, items } = input;
    if (!isArrayLike(users) || !isArrayLike(items)) throw badInput('users and items must be arrays');
    if (users.length !== items.length)
      throw new AffinityError(`users has ${users.length} entries but items has ${items.length}`, ErrorCode.DimMismatch);
    const u = internIds(users, 'users');
    const i = internIds(items, 'items');
    return Interactions.fromIndices(
      {
        rows: u.indices,
        cols: i.indices,
        values: input.values === undefined ? undefined : floatValues(input.values, users.length, 'values'),
        timestamps: input.timestamps === undefined ? undefined : timestampValues(input.timestamps, users.length),
        shape: [u.ids.length, i.ids.length],
        userIds: u.ids,
        itemIds: i.ids,
      },
      options,
    );
  }

  /** Builds from dense 0-based indices (the fast path for data that is already indexed). Ids default to the indices. */
  static async fromIndices(input: FromIndicesInput, options: BuildOptions = {}): Promise<Interactions> {
    const [rows, cols] = checkShape(input.shape);
    const { duplicates, transform } = mergeRule(options);
    const userIds = idsFor(input.userIds, rows, 'userIds');
    const itemIds = idsFor(input.itemIds, cols, 'itemIds');
    const values = transform === 'binary' || transform === 'count' ? null : (input.values ?? null);
    const csr = await runJob(options, (cancel, progress) =>
      native.buildCsr(input.rows, input.cols, values, input.timestamps ?? null, rows, cols, duplicates, cancel, progress),
    );
    if (transform === 'log1p') applyLog1p(csr.data);
    return new Interactions(new IdMap(userIds, 'user'), new IdMap(itemIds, 'item'), csr);
  }

  /** Builds from a CSR matrix (SciPy's indptr/indices/data), validating it. Rows are users. */
  static async fromCSR(input: CsrInput, options: BuildOptions = {}): Promise<Interactions> {
    if (input === null || typeof input !== 'object') throw badInput('fromCSR needs { indptr, indices, data, shape }');
    const [rows, cols] = checkShape(input.shape);
    const { duplicates, transform } = mergeRule(options);
    const indptr = toInt32(asNpy(input.indptr, 'indptr'), 'indptr');
    const indices = toInt32(asNpy(input.indices, 'indices'), 'indices');
    const given = toFloat32(asNpy(input.data, 'data'), 'data');
    const data = transform === 'binary' || transform === 'count' ? new Float32Array(given.length).fill(1) : given;
    if (indptr.length !== rows + 1)
      throw new AffinityError(`indptr has ${indptr.length} entries; shape[0] + 1 = ${rows + 1}`, ErrorCode.DimMismatch);
    const csr = await runJob(options, (cancel, progress) =>
      native.canonicalCsr({ rows, cols, indptr, indices, data }, duplicates, cancel, progress),
    );
    if (transform === 'log1p') applyLog1p(csr.data);
    return new Interactions(
      new IdMap(idsFor(input.userIds, rows, 'userIds'), 'user'),
      new IdMap(idsFor(input.itemIds, cols, 'itemIds'), 'item'),
      csr,
    );
  }

  /**
   * Streams a CSV/TSV file (gzip when the name ends in .gz) in bounded memory, or reads a Parquet or
   * Arrow IPC file (by its magic bytes) one row group or batch at a time. Ids are read as strings.
   * Parse errors carry the file name and line (row) number. A table's columns default to ones named
   * user, item, value and timestamp, else the first three.
   */
  static async fromFile(path: string, options: FileOptions = {}): Promise<Interactions> {
    if (typeof path !== 'string' || path.length === 0) throw badInput('path must be a non-empty string');
    const table = await tableFormatOf(path);
    if (table) {
      mergeRule(options);
      return Interactions.fromFileWhere(path, options.columns ?? (await defaultTableColumns(path, table)), options, null);
    }
    const other = OTHER_FORMATS.exec(path);
    if (other) throw badInput(`${path}: .${other[1]} is not a format fromFile reads: CSV or TSV text (.csv, .tsv, .data, .txt, optionally .gz), Parquet or Arrow IPC; a directory of .npy files: loadNpy`);
    const format = oneOf(options.format, 'format', ['csv', 'tsv'] as const, /\.tsv(\.gz)?$|\.data$/i.test(path) ? 'tsv' : 'csv');
    if (options.delimiter !== undefined && (typeof options.delimiter !== 'string' || options.delimiter.length !== 1)) throw badInput('delimiter must be one character');
    const firstLine = await readFirstLine(path).catch(() => '');
    if (firstLine.includes('\0') || firstLine.startsWith('PAR1')) throw badInput(`${path}: binary data, not CSV or TSV text`);
    // A .csv may well be ;-separated (spreadsheets in many locales): sniffed from the first line unless given.
    const delimiter = options.delimiter ?? (format === 'tsv' ? '\t' : sniffDelimiter(firstLine));
    mergeRule(options); // bad options fail before the file is read
    const columns = options.columns ?? { user: 0, item: 1, value: 2 };
    if (options.where !== undefined) return Interactions.fromFileWhere(path, columns, options, firstLine);
    const header = options.header ?? (options.columns ? typeof options.columns.user === 'string' : looksLikeHeader(firstLine, delimiter, columns));
    if (options.signal?.aborted) throw new AffinityError('the operation was cancelled', ErrorCode.Cancelled, { cause: options.signal.reason });
    const reader = new native.CsvReader({ delimiter, header, skipInvalid: options.skipInvalid ?? false, columns });
    let stream: NodeJS.ReadableStream = createReadStream(path, { highWaterMark: 1 << 20 });
    if (/\.gz$/i.test(path)) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (options.signal?.aborted) throw new AffinityError('the operation was cancelled', ErrorCode.Cancelled, { cause: options.signal.reason });
        await runJob(undefined, () => reader.push(chunk)); // a native job: its errors get the caller's stack
      }
      const parsed = reader.finish();
      const result = await Interactions.fromIndices(
        {
          rows: parsed.rows,
          cols: parsed.cols,
          values: parsed.values ?? undefined,
          timestamps: parsed.timestamps ?? undefined,
          shape: [parsed.userIds.length, parsed.itemIds.length],
          userIds: parsed.userIds,
          itemIds: parsed.itemIds,
        },
        options,
      );
      result.skippedLines = parsed.skipped;
      return result;
    } catch (err) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      const e = err as Error & { code?: string };
      if (e instanceof AffinityError && e.code === ErrorCode.Cancelled) throw e;
      if (e instanceof AffinityError) throw new AffinityError(`${path}: ${e.message}${parseHint(e.message, firstLine, delimiter, columns)}`, e.code, { cause: err });
      const code = e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' ? ErrorCode.Parse : ErrorCode.Io;
      throw new AffinityError(`${path}: ${e.message}`, code, { cause: err });
    }
  }

  /** fromFile with row conditions: the general CSV reader of purchase lines, with interactions' column roles. */
  private static async fromFileWhere(path: string, columns: NonNullable<FileOptions['columns']>, options: FileOptions, firstLine: string | null): Promise<Interactions> {
    // firstLine is null for a table, whose column names come from its schema.
    const named = Object.values(columns).some((c) => typeof c === 'string');
    const rows = await readTransactionRows(
      path,
      {
        columns: { customer: columns.user, item: columns.item, time: columns.timestamp, amount: columns.value },
        where: options.where,
        delimiter: options.delimiter,
        header: firstLine === null ? undefined : options.header ?? (named || looksLikeHeader(firstLine, options.delimiter ?? sniffDelimiter(firstLine), columns)),
        skipInvalid: options.skipInvalid,
      },
      { customer: 'user', amount: 'value' },
    );
    if (rows.customers.length === 0) throw new AffinityError(`${path}: no interactions${rows.filtered ? ` (where left out all ${rows.filtered} rows)` : ''}`, ErrorCode.Parse);
    const result = await Interactions.fromArrays({ users: rows.customers, items: rows.items, values: rows.amounts, timestamps: rows.times }, options);
    result.skippedLines = rows.skipped;
    result.filteredLines = rows.filtered;
    return result;
  }

  /**
   * Reads indptr.npy, indices.npy and data.npy (and shape.npy, user_ids.json, item_ids.json when present)
   * from a directory: the layout `saveNpy` writes and `scipy.sparse.csr_matrix((data, indices, indptr))` reads.
   */
  static async loadNpy(dir: string, options: BuildOptions & { shape?: [number, number] } = {}): Promise<Interactions> {
    try {
      return await Interactions.readNpyDir(dir, options);
    } catch (err) {
      // Every error names the directory (the .npy reader names its file; content checks name only the array).
      if (!(err instanceof AffinityError) || err.code === ErrorCode.Cancelled || err.message.startsWith(dir)) throw err;
      throw new AffinityError(`${dir}: ${err.message}`, err.code, { cause: err });
    }
  }

  private static async readNpyDir(dir: string, options: BuildOptions & { shape?: [number, number] }): Promise<Interactions> {
    const [indptr, indices, data] = await Promise.all(['indptr', 'indices', 'data'].map((n) => readNpy(join(dir, `${n}.npy`))));
    let shape = options.shape;
    if (!shape) {
      const stored = await readNpy(join(dir, 'shape.npy')).catch(() => null);
      if (stored && stored.length === 2) shape = [Number(stored[0]), Number(stored[1])];
      else {
        let maxCol = -1;
        for (const c of toInt32(indices, 'indices')) maxCol = Math.max(maxCol, c);
        shape = [indptr.length - 1, maxCol + 1];
      }
    }
    const userIds = await readIds(join(dir, 'user_ids.json'));
    const itemIds = await readIds(join(dir, 'item_ids.json'));
    return Interactions.fromCSR({ indptr: toInt32(indptr, 'indptr'), indices: toInt32(indices, 'indices'), data: toFloat32(data, 'data'), shape, userIds, itemIds }, options);
  }

  /** Writes indptr.npy (int32), indices.npy (int32), data.npy (float32), shape.npy (int64) and the id maps as JSON. */
  async saveNpy(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const c = this.csr;
    await writeNpy(join(dir, 'indptr.npy'), c.indptr);
    await writeNpy(join(dir, 'indices.npy'), c.indices);
    await writeNpy(join(dir, 'data.npy'), c.data);
    await writeNpy(join(dir, 'shape.npy'), BigInt64Array.from([BigInt(c.rows), BigInt(c.cols)]));
    await writeFileAtomic(join(dir, 'user_ids.json'), Buffer.from(JSON.stringify(this.users.ids)));
    await writeFileAtomic(join(dir, 'item_ids.json'), Buffer.from(JSON.stringify(this.items.ids)));
  }

  /** Writes `user,item,value[,timestamp]` with a header line. */
  async saveCsv(path: string): Promise<void> {
    const c = this.csr;
    const users = this.users.ids;
    const items = this.items.ids;
    const ts = c.timestamps;
    function* lines(): Generator<Uint8Array> {
      yield Buffer.from(ts ? 'user,item,value,timestamp\n' : 'user,item,value\n');
      let batch: string[] = [];
      for (let u = 0; u < c.rows; u++) {
        for (let p = c.indptr[u]; p < c.indptr[u + 1]; p++) {
          batch.push(`${csvField(users[u])},${csvField(items[c.indices[p]])},${c.data[p]}${ts ? ',' + ts[p] : ''}\n`);
          if (batch.length === 65536) {
            yield Buffer.from(batch.join(''));
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield Buffer.from(batch.join(''));
    }
    await writeFileAtomic(path, lines());
  }
}

function csvField(id: Id): string {
  const s = String(id);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

function checkShape(shape: unknown): [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) throw badInput('shape must be [rows, cols]');
  const rows = intOption(shape[0], 'shape[0]', 0, 0x7ffffffe, 0);
  const cols = intOption(shape[1], 'shape[1]', 0, 0x7ffffffe, 0);
  return [rows, cols];
}

function idsFor(ids: readonly Id[] | undefined, n: number, what: string): readonly Id[] {
  if (ids === undefined) return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(ids) || ids.length !== n)
    throw new AffinityError(`${what} must be an array of ${n} ids`, ErrorCode.DimMismatch);
  ids.forEach((id, i) => checkId(id, `${what}[${i}]`));
  if (new Set(ids).size !== ids.length) throw badInput(`${what} contains duplicates`);
  return ids;
}

function floatValues(values: ArrayLike<number>, n: number, what: string): Float32Array {
  if (!isArrayLike(values)) throw badInput(`${what} must be an array of numbers`);
  if (values.length !== n) throw new AffinityError(`${what} has ${values.length} entries, expected ${n}`, ErrorCode.DimMismatch);
  const out = values instanceof Float32Array ? values : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(Math.fround(v)))
      throw badInput(`${what}[${i}] must be a finite number, got ${String(v)}`);
    if (out !== values) out[i] = v;
  }
  return out;
}

function timestampValues(values: ArrayLike<number | Date>, n: number): Float64Array {
  if (!isArrayLike(values)) throw badInput('timestamps must be an array');
  if (values.length !== n) throw new AffinityError(`timestamps has ${values.length} entries, expected ${n}`, ErrorCode.DimMismatch);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const t = v instanceof Date ? v.getTime() / 1000 : v;
    if (typeof t !== 'number' || !Number.isFinite(t)) throw badInput(`timestamps[${i}] must be a finite number or a valid Date`);
    out[i] = t;
  }
  return out;
}

function asNpy(v: ArrayLike<number> | BigInt64Array, what: string) {
  if (v instanceof Int32Array || v instanceof Float32Array || v instanceof Float64Array || v instanceof BigInt64Array || v instanceof Uint32Array) return v;
  if (Array.isArray(v)) return Float64Array.from(v);
  throw badInput(`${what} must be a typed array or an array of numbers`);
}

async function readIds(path: string): Promise<Id[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch (err) {
    throw new AffinityError(`${path}: ${(err as Error).message}`, ErrorCode.Parse, { cause: err });
  }
  if (!Array.isArray(ids)) throw new AffinityError(`${path} must hold a JSON array of ids`, ErrorCode.Parse);
  ids.forEach((id, i) => {
    const problem = idProblem(id);
    if (problem !== undefined) throw new AffinityError(`${path}: entry ${i}: ${problem}`, ErrorCode.Parse);
  });
  return ids as Id[];
}

/** How duplicates merge under a value transform: binary keeps one, count adds the ones each row stands for. */
function mergeRule(options: BuildOptions): { duplicates: DuplicatePolicy; transform: ValueTransform } {
  const transform = oneOf(options.value, 'value', VALUE_TRANSFORMS, 'raw');
  const duplicates = oneOf(options.duplicates, 'duplicates', DUPLICATES, 'sum');
  if ((transform === 'binary' || transform === 'count') && options.duplicates !== undefined && options.duplicates !== (transform === 'binary' ? 'max' : 'sum'))
    throw badInput(`value '${transform}' decides how pairs merge; leave out duplicates ('${duplicates}')`);
  return { duplicates: transform === 'binary' ? 'max' : transform === 'count' ? 'sum' : duplicates, transform };
}

/** log(1 + v) in place; a negative merged value (returns outweighing purchases) has no meaning there. */
function applyLog1p(data: Float32Array): void {
  let negative = 0;
  for (const v of data) if (v < 0) negative++;
  if (negative > 0) throw badInput(`value 'log1p' needs merged values >= 0, and ${negative} pairs are negative (returns?): leave those rows out with where, or use 'binary' or 'count'`);
  for (let i = 0; i < data.length; i++) data[i] = Math.log1p(data[i]);
}

/**
 * Whether a headerless-by-default file starts with a header: its value column does not read as a number,
 * or its user and item fields are the names saveCsv (and `affinity generate --format csv`) writes.
 */
function looksLikeHeader(first: string, delimiter: string, columns: NonNullable<FileOptions['columns']>): boolean {
  if (first === '') return false;
  const fields = first.replace(/^\uFEFF/, '').split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
  const at = (c: string | number | undefined) => (typeof c === 'number' ? fields[c] : undefined);
  if (/^user(_?id)?$/i.test(at(columns.user) ?? '') && /^item(_?id)?$/i.test(at(columns.item) ?? '')) return true;
  const value = at(columns.value);
  return value !== undefined && value !== '' && !Number.isFinite(Number(value));
}

/** Extensions of formats that are not CSV text, named in the error instead of parsed as if they were. */
/** The columns of a table read without `columns`: user, item, value, timestamp by name, else positions 0, 1 and 2. */
async function defaultTableColumns(path: string, format: TableFormat): Promise<NonNullable<FileOptions['columns']>> {
  const { names } = await openTable(path, format);
  if (names.includes('user') && names.includes('item'))
    return { user: 'user', item: 'item', ...(names.includes('value') ? { value: 'value' } : {}), ...(names.includes('timestamp') ? { timestamp: 'timestamp' } : {}) };
  return names.length > 2 ? { user: 0, item: 1, value: 2 } : { user: 0, item: 1 };
}

const OTHER_FORMATS = /\.(parquet|arrow|feather|ipc|orc|avro|json|jsonl|ndjson|npy|npz|xlsx?|zip|7z|bz2|xz|zst)$/i;

/** What to try when line 1 does not parse: the columns the header has (with the closest name), or the delimiter. */
function parseHint(message: string, first: string, delimiter: string, columns: NonNullable<FileOptions['columns']>): string {
  if (!/^line 1:/.test(message) || first === '') return '';
  const fields = first.replace(/^\uFEFF/, '').split(delimiter).map((f) => f.trim());
  const sniffed = sniffDelimiter(first);
  if (fields.length === 1 && sniffed !== delimiter) return ` (line 1 reads as one column with delimiter ${JSON.stringify(delimiter)}; it looks ${JSON.stringify(sniffed)}-separated: give delimiter)`;
  const wanted = Object.values(columns).find((c): c is string => typeof c === 'string' && !fields.includes(c));
  return wanted === undefined ? '' : columnHint(wanted, fields);
}
