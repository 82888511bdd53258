// Spark MLlib's ALSModel directories, both ways: a model trained on a cluster served here (with fold-in
// that solves Spark's own equations), and factors trained here handed back to a Spark job.
//
// The layout (ALSModel.write.save(path), Spark 2.x and 3.x):
//   metadata/part-00000     one JSON line: class, sparkVersion, uid, paramMap, defaultParamMap, rank
//   userFactors/, itemFactors/   Parquet parts (snappy) of { id: int32 (required), features: array<float> }
//   _SUCCESS in each folder once its job committed.
// ALSModel keeps only userCol, itemCol, predictionCol, coldStartStrategy and blockSize among its params:
// how it was trained (implicitPrefs, alpha, regParam) lives in the estimator, so the caller gives it
// (loadSparkALS options), or it is read from top-level keys of the metadata, where exportSpark writes it
// and where Spark's own reader ignores it.
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { NativeAlsFactors } from '../core/native.js';
import { VERSION } from '../core/version.js';
import { Interactions } from '../data/interactions.js';
import { syncDirectory, writeFileAtomic } from '../io/files.js';
import { readFixedLists } from '../io/parquetlists.js';
import { ALS, type AlsOptions } from './als.js';
import { trainingMetadata } from './contract.js';

const MODEL_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';
/** Spark's ALS defaults, for what neither the caller nor the metadata says. */
const SPARK_DEFAULTS = { implicitPrefs: false, alpha: 1.0, regParam: 0.1 };

export interface SparkAlsOptions {
  /** How the model was trained (Spark's ALS estimator params). Default: the metadata's, else Spark's defaults. */
  implicitPrefs?: boolean;
  alpha?: number;
  regParam?: number;
  /** The training interactions, ids as Spark's (decimal ints): the histories filterSeen and explain use. */
  interactions?: Interactions;
  /** Accept factor folders without Spark's _SUCCESS marker (a job that may not have finished). Default false. */
  allowUncommitted?: boolean;
}

/** What a Spark model directory said about itself, kept in the model's metadata. */
export interface SparkModelInfo {
  sparkVersion: string;
  uid: string;
  userCol: string;
  itemCol: string;
  /** Params not given by the caller or the metadata, taken from Spark's defaults. */
  defaulted: string[];
}

function corrupt(path: string, why: string): AffinityError {
  return new AffinityError(`${path}: ${why}`, ErrorCode.CorruptFile);
}

async function readMetadata(dir: string): Promise<Record<string, unknown>> {
  const folder = join(dir, 'metadata');
  const parts = await readdir(folder).catch(() => {
    throw corrupt(dir, 'no metadata/ folder: not a saved Spark model (ALSModel.write.save writes metadata/, userFactors/ and itemFactors/)');
  });
  const part = parts.filter((n) => n.startsWith('part-') && !n.endsWith('.crc')).sort()[0];
  if (!part) throw corrupt(folder, 'no part-00000 file');
  const text = (await readFile(join(folder, part), 'utf8')).split('\n', 1)[0];
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    throw corrupt(join(folder, part), 'not JSON');
  }
  if (meta === null || typeof meta !== 'object') throw corrupt(join(folder, part), 'not a JSON object');
  const m = meta as Record<string, unknown>;
  if (m.class !== MODEL_CLASS) throw corrupt(join(folder, part), `class is ${JSON.stringify(m.class)}, not ${MODEL_CLASS}`);
  return m;
}

function param(meta: Record<string, unknown>, name: string): unknown {
  for (const where of [meta, meta.paramMap, meta.defaultParamMap]) {
    if (where && typeof where === 'object' && name in where) return (where as Record<string, unknown>)[name];
  }
  return undefined;
}

interface FactorTable {
  ids: Int32Array;
  /** rows × rank, in the order of `ids`. */
  features: Float32Array;
}

/** One factor folder: every Parquet part (in name order), checked against Spark's schema and the rank. */
async function readFactors(folder: string, rank: number, allowUncommitted: boolean): Promise<FactorTable> {
  const names = await readdir(folder).catch(() => {
    throw corrupt(folder, 'missing: a Spark ALS model has userFactors/ and itemFactors/');
  });
  if (!allowUncommitted && !names.includes('_SUCCESS')) throw corrupt(folder, 'no _SUCCESS marker: the Spark job that wrote it did not finish (allowUncommitted reads it anyway)');
  const parts = names.filter((n) => n.startsWith('part-') && n.endsWith('.parquet')).sort();
  if (parts.length === 0) throw corrupt(folder, 'no part-*.parquet files');
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  // Every part's footer first: the rows of all of them, so the factors are read into one array in place.
  const opened = await Promise.all(
    parts.map(async (part) => {
      const path = join(folder, part);
      try {
        const file = await asyncBufferFromFile(path);
        return { path, file, metadata: await parquetMetadataAsync(file) };
      } catch (err) {
        throw corrupt(path, `not a readable Parquet file: ${(err as Error).message}`);
      }
    }),
  );
  const total = opened.reduce((n, o) => n + Number(o.metadata.num_rows), 0);
  const ids = new Int32Array(total);
  const features = new Float32Array(total * rank);
  let row = 0;
  for (const { path, file, metadata } of opened) {
    const rows = Number(metadata.num_rows);
    try {
      const schema = parquetSchema(metadata);
      const id = schema.children.find((c) => c.element.name === 'id');
      const list = schema.children.find((c) => c.element.name === 'features');
      if (!id || id.element.type !== 'INT32') throw corrupt(path, 'no int32 column "id" (Spark writes { id: int, features: array<float> })');
      if (!list || list.children.length === 0) throw corrupt(path, 'no array column "features"');
      let partIds: ArrayLike<unknown> = [];
      await parquetRead({ file, metadata, compressors, columns: ['id'], onChunk: ({ columnData, rowStart }) => (rowStart === 0 && columnData.length === rows ? (partIds = columnData) : undefined) });
      if (partIds.length !== rows) throw corrupt(path, 'the id column could not be read whole');
      for (let r = 0; r < rows; r++) {
        if (typeof partIds[r] !== 'number') throw corrupt(path, `row ${r + 1}: no id`);
        ids[row + r] = partIds[r] as number;
      }
      await readFixedLists(file, metadata, schema, 'features', rank, compressors, features, row * rank).catch((err: Error) => {
        throw corrupt(path, `${err.message} (the model's rank is ${rank})`);
      });
      const bad = firstNotFinite(features.subarray(row * rank, (row + rows) * rank));
      if (bad >= 0) throw corrupt(path, `row ${Math.floor(bad / rank) + 1} (id ${partIds[Math.floor(bad / rank)]}): feature ${bad % rank} is ${features[row * rank + bad]}`);
    } catch (err) {
      if (err instanceof AffinityError) throw err;
      throw corrupt(path, `not a readable Parquet file: ${(err as Error).message}`);
    }
    row += rows;
  }
  // Rows keep the order of the parts (sorted by name) and of the rows in them.
  const twice = firstRepeat(ids);
  if (twice !== undefined) throw corrupt(folder, `id ${twice} appears twice`);
  return { ids, features };
}

// The hot loops sit in small functions of their own, where the JIT compiles them well.

function firstNotFinite(values: Float32Array): number {
  for (let v = 0; v < values.length; v++) if (!Number.isFinite(values[v])) return v;
  return -1;
}

/** An id that appears more than once, if any. */
function firstRepeat(ids: Int32Array): number | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** The interactions reindexed to the model's ids (pairs of users or items Spark never saw are dropped), or none. */
async function historiesFor(data: Interactions | undefined, users: string[], items: string[]): Promise<Interactions> {
  const shape: [number, number] = [users.length, items.length];
  if (!data) return Interactions.fromIndices({ rows: new Int32Array(0), cols: new Int32Array(0), shape, userIds: users, itemIds: items });
  if (!(data instanceof Interactions)) throw badInput('interactions must be an Interactions');
  const u = new Map(users.map((id, i) => [id, i]));
  const it = new Map(items.map((id, i) => [id, i]));
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const { indptr, indices, data: v } = data.csr;
  for (let r = 0; r < data.userCount; r++) {
    const row = u.get(String(data.users.ids[r]));
    if (row === undefined) continue;
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const col = it.get(String(data.items.ids[indices[p]]));
      if (col === undefined) continue;
      rows.push(row), cols.push(col), values.push(v[p]);
    }
  }
  return Interactions.fromIndices({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), values: Float32Array.from(values), shape, userIds: users, itemIds: items });
}

/**
 * Reads a Spark MLlib ALSModel directory into an ALS model that recommends, scores, finds similar items,
 * folds in visitors and explains like one trained here. Fold-in solves Spark's normal equations: λ times
 * the row's number of ratings, implicit confidence 1 + alpha·|r|, no biases for explicit ratings.
 */
export async function loadSparkALS(dir: string, options: SparkAlsOptions = {}): Promise<ALS> {
  if (typeof dir !== 'string' || dir === '') throw badInput('loadSparkALS needs the model directory');
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new AffinityError(`${dir}: no such directory`, ErrorCode.Io);
  const meta = await readMetadata(dir);
  const rank = param(meta, 'rank');
  if (!Number.isInteger(rank) || (rank as number) < 1 || (rank as number) > 1024) throw corrupt(dir, `metadata rank ${JSON.stringify(rank)} is not an integer in [1, 1024]`);
  const f = rank as number;
  const defaulted: string[] = [];
  const setting = <K extends keyof typeof SPARK_DEFAULTS>(name: K, check: (v: unknown) => boolean): (typeof SPARK_DEFAULTS)[K] => {
    const given = options[name] ?? param(meta, name);
    if (given === undefined) return defaulted.push(name), SPARK_DEFAULTS[name];
    if (!check(given)) throw badInput(`${name} must be ${name === 'implicitPrefs' ? 'a boolean' : 'a finite number >= 0'}, got ${JSON.stringify(given)}`);
    return given as (typeof SPARK_DEFAULTS)[K];
  };
  const implicitPrefs = setting('implicitPrefs', (v) => typeof v === 'boolean');
  const alpha = setting('alpha', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  const regParam = setting('regParam', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  if (!(regParam > 0)) throw badInput('regParam 0 leaves fold-in systems singular for visitors with few items: give loadSparkALS a regParam > 0');
  const allow = options.allowUncommitted === true;
  const [users, items] = await Promise.all([readFactors(join(dir, 'userFactors'), f, allow), readFactors(join(dir, 'itemFactors'), f, allow)]);
  if (items.ids.length === 0) throw corrupt(join(dir, 'itemFactors'), 'no items');
  const userIds = Array.from(users.ids, String);
  const itemIds = Array.from(items.ids, String);
  const factors: NativeAlsFactors = {
    users: userIds.length,
    items: itemIds.length,
    factors: f,
    implicit: implicitPrefs,
    globalMean: 0,
    userFactors: users.features,
    itemFactors: items.features,
    userBias: implicitPrefs ? null : new Float32Array(userIds.length),
    itemBias: implicitPrefs ? null : new Float32Array(itemIds.length),
  };
  const alsOptions: AlsOptions = {
    factors: f,
    feedback: implicitPrefs ? 'implicit' : 'explicit',
    regularization: regParam,
    alpha,
    scaleRegularization: true,
    ...(implicitPrefs ? {} : { biases: false }),
    solver: 'cholesky',
    iterations: Number.isInteger(param(meta, 'maxIter')) ? (param(meta, 'maxIter') as number) : 10,
  };
  const data = await historiesFor(options.interactions, userIds, itemIds);
  const model = ALS.fromFactors(alsOptions, data, factors);
  const info: SparkModelInfo = {
    sparkVersion: String(meta.sparkVersion ?? 'unknown'),
    uid: String(meta.uid ?? ''),
    userCol: String(param(meta, 'userCol') ?? 'user'),
    itemCol: String(param(meta, 'itemCol') ?? 'item'),
    defaulted,
  };
  model.metadata = {
    ...trainingMetadata({ users: userIds.length, items: itemIds.length, interactions: data.size }, model.options),
    trainedAt: typeof meta.timestamp === 'number' ? new Date(meta.timestamp).toISOString() : new Date().toISOString(),
    source: { kind: 'spark', dir, ...info },
  };
  return model;
}

export interface SparkExportOptions {
  /** Replace an existing directory (default false: an existing one is ERR_AFFINITY_CONFLICT, as Spark's save). */
  overwrite?: boolean;
  userCol?: string;
  itemCol?: string;
}

/** Spark's ids are int32: each id must be the decimal text of one. */
function sparkIds(ids: readonly (string | number)[], what: string): Int32Array {
  return Int32Array.from(ids, (id) => {
    const n = typeof id === 'number' ? id : /^-?\d+$/.test(id) ? Number(id) : NaN;
    if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647 || String(n) !== String(id))
      throw badInput(`Spark's ALS needs int ${what} ids: ${JSON.stringify(id)} is not one (index the ids, e.g. with StringIndexer, before training)`);
    return n;
  });
}

async function writeFactorFolder(folder: string, ids: Int32Array, factors: Float32Array, rank: number): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  await mkdir(folder, { recursive: true });
  const features = Array.from(ids, (_, r) => Array.from(factors.subarray(r * rank, (r + 1) * rank)));
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ids },
      { name: 'features', data: features },
    ],
    // Spark's schema, in the standard three-level list encoding it writes (spark.sql.parquet.writeLegacyFormat=false).
    schema: [
      { name: 'spark_schema', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'features', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ],
    codec: 'SNAPPY',
    createdBy: `affinity version ${VERSION}`,
  });
  await writeFileAtomic(join(folder, `part-00000-${randomUUID()}-c000.snappy.parquet`), new Uint8Array(bytes));
  await writeFileAtomic(join(folder, '_SUCCESS'), new Uint8Array(0));
}

/**
 * Writes an ALS model as Spark's ALSModel directory (ALSModel.load reads it). It is written beside `dir`
 * and renamed into place, so a reader never sees half a model. Explicit models with biases cannot be
 * expressed in Spark's (x·y only) and are refused.
 */
export async function exportSparkALS(model: ALS, dir: string, options: SparkExportOptions = {}): Promise<void> {
  if (!(model instanceof ALS)) throw badInput('exportSpark needs an ALS model');
  const f = model.factors;
  if (!f.implicit && model.options.biases) throw new AffinityError("Spark's explicit ALS has no biases: train with { feedback: 'explicit', biases: false } to export", ErrorCode.Unsupported);
  const userIds = sparkIds(model.users.ids, 'user');
  const itemIds = sparkIds(model.items.ids, 'item');
  const exists = await stat(dir).then(() => true, () => false);
  if (exists && !options.overwrite) throw new AffinityError(`${dir} already exists (overwrite: true replaces it)`, ErrorCode.Conflict);
  const temp = join(dirname(dir), `.${basename(dir)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const o = model.options;
    const params = { userCol: options.userCol ?? 'user', itemCol: options.itemCol ?? 'item', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 };
    const meta = {
      class: MODEL_CLASS,
      timestamp: Date.now(),
      sparkVersion: '3.5.0',
      uid: `ALS_affinity_${randomBytes(6).toString('hex')}`,
      paramMap: { userCol: params.userCol, itemCol: params.itemCol },
      defaultParamMap: params,
      rank: f.factors,
      // How it was trained: top-level keys Spark's reader ignores and loadSparkALS reads back.
      implicitPrefs: f.implicit,
      alpha: o.alpha,
      regParam: o.regularization,
      maxIter: o.iterations,
    };
    await mkdir(join(temp, 'metadata'), { recursive: true });
    await writeFileAtomic(join(temp, 'metadata', 'part-00000'), Buffer.from(JSON.stringify(meta) + '\n'));
    await writeFileAtomic(join(temp, 'metadata', '_SUCCESS'), new Uint8Array(0));
    await writeFactorFolder(join(temp, 'userFactors'), userIds, f.userFactors, f.factors);
    await writeFactorFolder(join(temp, 'itemFactors'), itemIds, f.itemFactors, f.factors);
    if (exists) await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
    await syncDirectory(dirname(dir));
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    if (err instanceof AffinityError) throw err;
    throw new AffinityError(`cannot write ${dir}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
}

/** Whether a path looks like a saved Spark model (a metadata/ folder whose JSON names ALSModel). */
export async function isSparkModelDir(dir: string): Promise<boolean> {
  return readMetadata(dir).then(() => true, () => false);
}
