// Spark MLlib's ALSModel directories on disk, both ways (the model side, building an ALS, is models/spark.ts).
//
// The layout (ALSModel.write.save(path), Spark 2.x and 3.x):
//   metadata/part-00000     one JSON line: class, sparkVersion, uid, paramMap, defaultParamMap, rank
//   userFactors/, itemFactors/   Parquet parts (snappy) of { id: int32 (required), features: array<float> }
//   _SUCCESS in each folder once its job committed.
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { syncDirectory, writeFileAtomic } from './files.js';
import { readFixedLists } from './parquetlists.js';

const MODEL_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';

/** Spark's factor schema, in the standard three-level list encoding it writes (spark.sql.parquet.writeLegacyFormat=false). */
export const SPARK_FACTOR_SCHEMA = [
  { name: 'spark_schema', num_children: 2 },
  { name: 'id', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
  { name: 'features', repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
  { name: 'element', type: 'FLOAT' as const, repetition_type: 'REQUIRED' as const },
];

export function corrupt(path: string, why: string): AffinityError {
  return new AffinityError(`${path}: ${why}`, ErrorCode.CorruptFile);
}

export async function readSparkMetadata(dir: string): Promise<Record<string, unknown>> {
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

export function sparkParam(meta: Record<string, unknown>, name: string): unknown {
  for (const where of [meta, meta.paramMap, meta.defaultParamMap]) {
    if (where && typeof where === 'object' && name in where) return (where as Record<string, unknown>)[name];
  }
  return undefined;
}

export interface FactorTable {
  ids: Int32Array;
  /** rows × rank, in the order of `ids`. */
  features: Float32Array;
}

/** One factor folder: every Parquet part (in name order), checked against Spark's schema and the rank. */
export async function readSparkFactors(folder: string, rank: number, allowUncommitted: boolean): Promise<FactorTable> {
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
    schema: SPARK_FACTOR_SCHEMA,
    codec: 'SNAPPY',
    createdBy: `affinity version ${VERSION}`,
  });
  await writeFileAtomic(join(folder, `part-00000-${randomUUID()}-c000.snappy.parquet`), new Uint8Array(bytes));
  await writeFileAtomic(join(folder, '_SUCCESS'), new Uint8Array(0));
}

/** What an ALS model directory holds, as plain arrays: the model side builds it from an ALS. */
export interface SparkFactors {
  userIds: readonly (string | number)[];
  itemIds: readonly (string | number)[];
  userFactors: Float32Array;
  itemFactors: Float32Array;
  rank: number;
  /** How it was trained: written as top-level metadata keys, which Spark's reader ignores. */
  training: { implicitPrefs: boolean; alpha: number; regParam: number; maxIter: number };
}

/**
 * Writes Spark's ALSModel directory (ALSModel.load reads it). It is written beside `dir` and renamed into
 * place, so a reader never sees half a model.
 */
export async function writeSparkALS(dir: string, model: SparkFactors, options: SparkExportOptions = {}): Promise<void> {
  const userIds = sparkIds(model.userIds, 'user');
  const itemIds = sparkIds(model.itemIds, 'item');
  const exists = await stat(dir).then(() => true, () => false);
  if (exists && !options.overwrite) throw new AffinityError(`${dir} already exists (overwrite: true replaces it)`, ErrorCode.Conflict);
  const temp = join(dirname(dir), `.${basename(dir)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const params = { userCol: options.userCol ?? 'user', itemCol: options.itemCol ?? 'item', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 };
    const meta = {
      class: MODEL_CLASS,
      timestamp: Date.now(),
      sparkVersion: '3.5.0',
      uid: `ALS_affinity_${randomBytes(6).toString('hex')}`,
      paramMap: { userCol: params.userCol, itemCol: params.itemCol },
      defaultParamMap: params,
      rank: model.rank,
      ...model.training,
    };
    await mkdir(join(temp, 'metadata'), { recursive: true });
    await writeFileAtomic(join(temp, 'metadata', 'part-00000'), Buffer.from(JSON.stringify(meta) + '\n'));
    await writeFileAtomic(join(temp, 'metadata', '_SUCCESS'), new Uint8Array(0));
    await writeFactorFolder(join(temp, 'userFactors'), userIds, model.userFactors, model.rank);
    await writeFactorFolder(join(temp, 'itemFactors'), itemIds, model.itemFactors, model.rank);
    if (exists) await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
    await syncDirectory(dirname(dir));
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    if (err instanceof AffinityError) throw err;
    throw new AffinityError(`cannot write ${dir}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
}
