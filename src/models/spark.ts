// Spark MLlib's ALS models served here: a model trained on a cluster read into an ALS whose fold-in solves
// Spark's own equations (the files themselves: io/sparkdir.ts; writing one back: ALS.exportSpark).
//
// The layout (ALSModel.write.save(path), Spark 2.x and 3.x):
//   metadata/part-00000     one JSON line: class, sparkVersion, uid, paramMap, defaultParamMap, rank
//   userFactors/, itemFactors/   Parquet parts (snappy) of { id: int32 (required), features: array<float> }
//   _SUCCESS in each folder once its job committed.
// ALSModel keeps only userCol, itemCol, predictionCol, coldStartStrategy and blockSize among its params:
// how it was trained (implicitPrefs, alpha, regParam) lives in the estimator, so the caller gives it
// (loadSparkALS options), or it is read from top-level keys of the metadata, where exportSpark writes it
// and where Spark's own reader ignores it.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { NativeAlsFactors } from '../core/native.js';
import { Interactions } from '../data/interactions.js';
import { corrupt, readSparkFactors, readSparkMetadata, sparkParam as param } from '../io/sparkdir.js';
import { ALS, type AlsOptions } from './als.js';
import { trainingMetadata } from './contract.js';

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
  const meta = await readSparkMetadata(dir);
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
  const [users, items] = await Promise.all([readSparkFactors(join(dir, 'userFactors'), f, allow), readSparkFactors(join(dir, 'itemFactors'), f, allow)]);
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

