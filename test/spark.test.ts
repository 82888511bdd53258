// Spark MLlib ALSModel directories: written here byte-for-byte in Spark's layout and Parquet schema (not by
// exportSpark), read by loadSparkALS, with fold-in checked against Spark's equations solved by hand.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import * as arrow from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import { ALS, Interactions, loadModel, loadSparkALS } from '../src/index.js';
import { tempDir } from './stores.js';

const SPARK_SCHEMA = [
  { name: 'spark_schema', num_children: 2 },
  { name: 'id', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
  { name: 'features', repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
  { name: 'element', type: 'FLOAT' as const, repetition_type: 'REQUIRED' as const },
];

/** One factor folder as Spark writes it: several snappy parts, .crc side files and _SUCCESS. */
async function writeFactors(folder: string, parts: [number, number[]][][]): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const [p, rows] of parts.entries()) {
    const name = `part-0000${p}-5d1e0c4a-7b7e-4a55-9d0e-1c0ffee0000${p}-c000.snappy.parquet`;
    const bytes = parquetWriteBuffer({ columnData: [{ name: 'id', data: Int32Array.from(rows.map((r) => r[0])) }, { name: 'features', data: rows.map((r) => r[1]) }], schema: SPARK_SCHEMA, codec: 'SNAPPY' });
    await writeFile(join(folder, name), Buffer.from(bytes));
    await writeFile(join(folder, `.${name}.crc`), Buffer.from('crc'));
  }
  await writeFile(join(folder, '_SUCCESS'), '');
}

// Users 5, 17, 1000003 and items 2, 7, 40, 900: not dense, split over parts in no particular order.
const USERS: [number, number[]][] = [
  [17, [0.5, -1]],
  [1000003, [2, 0.25]],
  [5, [1, 1]],
];
const ITEMS: [number, number[]][] = [
  [40, [1, 0]],
  [900, [0.3, 0.9]],
  [2, [-0.5, 2]],
  [7, [0.8, 0.6]],
];

async function sparkModel(meta: Record<string, unknown> = {}): Promise<string> {
  const dir = join(await tempDir('affinity-spark-'), 'als-model');
  await mkdir(join(dir, 'metadata'), { recursive: true });
  // What Spark 3.5's ALSModel.write.save writes: only the model's own params, and rank.
  const metadata = {
    class: 'org.apache.spark.ml.recommendation.ALSModel',
    timestamp: 1_700_000_000_000,
    sparkVersion: '3.5.0',
    uid: 'ALS_3f1c2d0e8a5b',
    paramMap: { userCol: 'userId', itemCol: 'movieId', coldStartStrategy: 'drop' },
    defaultParamMap: { blockSize: 4096, predictionCol: 'prediction', userCol: 'user', itemCol: 'item', coldStartStrategy: 'nan' },
    rank: 2,
    ...meta,
  };
  await writeFile(join(dir, 'metadata', 'part-00000'), JSON.stringify(metadata) + '\n');
  await writeFile(join(dir, 'metadata', '_SUCCESS'), '');
  await writeFactors(join(dir, 'userFactors'), [[USERS[0]], [USERS[1], USERS[2]]]);
  await writeFactors(join(dir, 'itemFactors'), [[ITEMS[0], ITEMS[1]], [ITEMS[2]], [ITEMS[3]]]);
  return dir;
}

const item = (id: number) => ITEMS.find((r) => r[0] === id)![1];
const dot = (a: number[], b: ArrayLike<number>) => a[0] * b[0] + a[1] * b[1];

/** Solves the 2 x 2 system [[a, b], [b, d]] x = r by Cramer's rule. */
function solve2([a, b, d]: number[], r: number[]): number[] {
  const det = a * d - b * b;
  return [(r[0] * d - b * r[1]) / det, (a * r[1] - b * r[0]) / det];
}

describe('loadSparkALS', () => {
  it('reads ids that are not dense from several parts, and recommends, scores and finds neighbours from the factors', async () => {
    const model = await loadSparkALS(await sparkModel(), { implicitPrefs: true, alpha: 0.5, regParam: 0.1 });
    // Ids in the order of the parts (by name) and their rows.
    expect(model.users.ids).toEqual(['17', '1000003', '5']);
    expect(model.items.ids).toEqual(['40', '900', '2', '7']);
    expect(Array.from(model.userFactors)).toEqual([0.5, -1, 2, 0.25, 1, 1]);
    for (const [u, x] of USERS) {
      const expected = ITEMS.map(([i, y]) => ({ item: String(i), score: dot(x, y) })).sort((a, b) => b.score - a.score);
      const got = model.recommend(String(u), { k: 4 });
      expect(got.map((r) => r.item)).toEqual(expected.map((r) => r.item));
      got.forEach((r, j) => expect(r.score).toBeCloseTo(expected[j].score, 5));
      expect(model.score(String(u), ['900'])[0]).toBeCloseTo(dot(x, item(900)), 5);
    }
    const batch = await model.recommendBatch(['5', '17'], { k: 2 });
    expect(batch.get(0).map((r) => r.item)).toEqual(model.recommend('5', { k: 2 }).map((r) => r.item));
    expect(batch.get(1).map((r) => r.item)).toEqual(model.recommend('17', { k: 2 }).map((r) => r.item));
    const cos = (a: number[], b: number[]) => dot(a, b) / Math.hypot(...a) / Math.hypot(...b);
    const near = ITEMS.filter(([i]) => i !== 40).map(([i, y]) => ({ id: String(i), score: cos(item(40), y) })).sort((a, b) => b.score - a.score);
    expect(model.similarItems('40', { k: 3 }).map((n) => n.id)).toEqual(near.map((n) => n.id));
    expect(model.metadata?.source).toMatchObject({ kind: 'spark', sparkVersion: '3.5.0', uid: 'ALS_3f1c2d0e8a5b', userCol: 'userId', itemCol: 'movieId', defaulted: [] });
  });

  it('folds in a visitor with Spark implicit equations: lambda times the positive ratings, confidence 1 + alpha |r|', async () => {
    const alpha = 0.5;
    const lambda = 0.1;
    const model = await loadSparkALS(await sparkModel({ implicitPrefs: true, alpha, regParam: lambda })); // top-level keys, as exportSpark writes
    const history = [
      [40, 2],
      [7, 1],
    ];
    // A = YtY + sum c1 y y' + lambda n I, b = sum (1 + c1) y with c1 = alpha |r|; n = 2 positive ratings.
    const a = [0, 0, 0];
    const b = [0, 0];
    for (const [, y] of ITEMS) (a[0] += y[0] * y[0]), (a[1] += y[0] * y[1]), (a[2] += y[1] * y[1]);
    for (const [i, r] of history) {
      const y = item(i);
      const c1 = alpha * Math.abs(r);
      a[0] += c1 * y[0] * y[0];
      a[1] += c1 * y[0] * y[1];
      a[2] += c1 * y[1] * y[1];
      b[0] += (1 + c1) * y[0];
      b[1] += (1 + c1) * y[1];
    }
    a[0] += lambda * 2;
    a[2] += lambda * 2;
    const x = solve2(a, b);
    const folded = model.foldIn({ items: history.map((h) => String(h[0])), values: history.map((h) => h[1]) });
    expect(folded.factors[0]).toBeCloseTo(x[0], 5);
    expect(folded.factors[1]).toBeCloseTo(x[1], 5);
    const recs = model.recommendFor({ items: ['40', '7'], values: [2, 1] }, { k: 2 });
    const expected = ['2', '900'].map((i) => ({ item: i, score: dot(x, item(Number(i))) })).sort((p, q) => q.score - p.score);
    expect(recs.map((r) => r.item)).toEqual(expected.map((r) => r.item));
    recs.forEach((r, j) => expect(r.score).toBeCloseTo(expected[j].score, 4));
    // Explanations: the contributions add up to the visitor's score.
    const why = model.explainFor({ items: ['40', '7'], values: [2, 1] }, '900');
    expect(why.score).toBeCloseTo(dot(x, item(900)), 4);
    expect(why.contributions.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(why.score, 4);
  });

  it('folds in with Spark explicit equations: no biases, lambda times the number of ratings', async () => {
    const lambda = 0.3;
    const model = await loadSparkALS(await sparkModel(), { implicitPrefs: false, regParam: lambda });
    const ratings = [
      [2, 4],
      [900, 1],
      [7, 5],
    ];
    const a = [lambda * 3, 0, lambda * 3];
    const b = [0, 0];
    for (const [i, r] of ratings) {
      const y = item(i);
      (a[0] += y[0] * y[0]), (a[1] += y[0] * y[1]), (a[2] += y[1] * y[1]);
      (b[0] += r * y[0]), (b[1] += r * y[1]);
    }
    const x = solve2([a[0], a[1], a[2]], b);
    const folded = model.foldIn({ items: ratings.map((r) => String(r[0])), values: ratings.map((r) => r[1]) });
    expect(folded.bias).toBe(0);
    expect(folded.factors[0]).toBeCloseTo(x[0], 5);
    expect(folded.factors[1]).toBeCloseTo(x[1], 5);
    expect(model.score('5', ['40'])[0]).toBeCloseTo(1, 6); // explicit: x.y alone, no mean or biases
  });

  it('takes the training interactions as histories (filterSeen, explain), and saves to an Affinity model file', async () => {
    const interactions = await Interactions.fromArrays({ users: ['5', '5', '17', '999'], items: ['40', '2', '900', '40'] });
    const model = await loadSparkALS(await sparkModel(), { implicitPrefs: true, alpha: 1, regParam: 0.1, interactions });
    expect(model.data.size).toBe(3); // user 999 is not in the Spark model
    expect(model.recommend('5', { k: 4 }).map((r) => r.item).sort()).toEqual(['7', '900']);
    expect(model.explain('5', '7').contributions.map((c) => c.item).sort()).toEqual(['2', '40']);
    const path = join(await tempDir('affinity-spark-'), 'spark.affinity');
    await model.save(path);
    const again = (await loadModel(path)) as ALS;
    expect(again.recommend('17', { k: 3 })).toEqual(model.recommend('17', { k: 3 }));
    expect(again.foldIn({ items: ['2'], values: [3] })).toEqual(model.foldIn({ items: ['2'], values: [3] }));
    expect(again.metadata?.source).toMatchObject({ kind: 'spark' });
  });

  it('says which training params it took from Spark defaults', async () => {
    const model = await loadSparkALS(await sparkModel());
    expect(model.metadata?.source?.defaulted).toEqual(['implicitPrefs', 'alpha', 'regParam']);
    expect(model.options).toMatchObject({ feedback: 'explicit', regularization: 0.1, biases: false, scaleRegularization: true });
  });

  it('a corrupt or partial directory is a clear error', async () => {
    const dir = await sparkModel();
    await expect(loadSparkALS(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
    await expect(loadSparkALS(join(dir, 'userFactors'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('no metadata/ folder') });
    const partial = await sparkModel();
    await rm(join(partial, 'itemFactors', '_SUCCESS'));
    await expect(loadSparkALS(partial)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('did not finish') });
    expect((await loadSparkALS(partial, { allowUncommitted: true })).items.ids).toHaveLength(4);
    const missing = await sparkModel();
    await rm(join(missing, 'itemFactors'), { recursive: true });
    await expect(loadSparkALS(missing)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('itemFactors: missing') });
    const wrongRank = await sparkModel({ rank: 3 });
    await expect(loadSparkALS(wrongRank)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining("does not hold 3 values (the model's rank is 3)") });
    const notAls = await sparkModel({ class: 'org.apache.spark.ml.classification.LogisticRegressionModel' });
    await expect(loadSparkALS(notAls)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('not org.apache.spark.ml.recommendation.ALSModel') });
    const cut = await sparkModel();
    const part = (await readdir(join(cut, 'userFactors'))).find((n) => n.endsWith('.parquet') && !n.startsWith('.'))!;
    const bytes = await readFile(join(cut, 'userFactors', part));
    await writeFile(join(cut, 'userFactors', part), bytes.subarray(0, bytes.length - 30));
    await expect(loadSparkALS(cut)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('not a readable Parquet file') });
    const dup = await sparkModel();
    await writeFactors(join(dup, 'userFactors'), [[USERS[0]], [USERS[0]]]);
    await expect(loadSparkALS(dup)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('id 17 appears twice') });
    await expect(loadSparkALS(await sparkModel(), { regParam: -1 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });
});

/** A factor part written by another Parquet writer (arrow-rs, through parquet-wasm): version 1 data pages, dictionary-encoded floats, nullable lists, as parquet-mr (Spark) writes by default. */
function arrowRsPart(rows: [number, number[]][]): Uint8Array {
  const listType = new arrow.List(new arrow.Field('element', new arrow.Float32(), false));
  const table = new arrow.Table({ id: arrow.makeVector(Int32Array.from(rows.map((r) => r[0]))), features: arrow.vectorFromArray(rows.map((r) => r[1]), listType) });
  const props = new parquetWasm.WriterPropertiesBuilder().setCompression(parquetWasm.Compression.SNAPPY).setWriterVersion(parquetWasm.WriterVersion.V1).build();
  return parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props);
}

describe('factor files from another writer (version 1 pages, dictionaries)', () => {
  it('reads them to the same factors, and finds a row of the wrong length', async () => {
    const dir = await sparkModel();
    const many = Array.from({ length: 3000 }, (_, i): [number, number[]] => [i * 5 + 2, [(i % 7) / 8, -(i % 3) / 4]]); // few distinct floats: dictionary pages
    const folder = join(dir, 'itemFactors');
    await rm(folder, { recursive: true });
    await mkdir(folder);
    await writeFile(join(folder, 'part-00000-a-c000.snappy.parquet'), arrowRsPart(many.slice(0, 1700)));
    await writeFile(join(folder, 'part-00001-a-c000.snappy.parquet'), arrowRsPart(many.slice(1700)));
    await writeFile(join(folder, '_SUCCESS'), '');
    const md = await parquetMetadataAsync(await asyncBufferFromFile(join(folder, 'part-00000-a-c000.snappy.parquet')));
    expect(md.row_groups[0].columns[1].meta_data?.encodings).toContain('RLE_DICTIONARY');
    const model = await loadSparkALS(dir, { implicitPrefs: true, regParam: 0.1 });
    expect(model.items.ids).toEqual(many.map((r) => String(r[0])));
    expect(Array.from(model.itemFactors)).toEqual(many.flatMap((r) => r[1].map((v) => Math.fround(v))));
    const ragged = many.slice(0, 50).map((r, i): [number, number[]] => (i === 37 ? [r[0], [...r[1], 0.5]] : r));
    await writeFile(join(folder, 'part-00001-a-c000.snappy.parquet'), arrowRsPart(ragged));
    await expect(loadSparkALS(dir, { implicitPrefs: true })).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringContaining('features: row 38 does not hold 2 values') });
  });
});

describe('ALS.exportSpark', () => {
  async function trained(feedback: 'implicit' | 'explicit' = 'implicit', biases = true): Promise<ALS> {
    const users = Array.from({ length: 60 }, (_, i) => String(3 * i + 1));
    const rows = users.flatMap((u, i) => [0, 1, 2].map((k) => ({ u, i: String(((i * 7 + k * 5) % 25) * 10), v: 1 + ((i + k) % 5) })));
    const data = await Interactions.fromArrays({ users: rows.map((r) => r.u), items: rows.map((r) => r.i), values: rows.map((r) => r.v) });
    return new ALS({ factors: 4, iterations: 5, feedback, ...(feedback === 'explicit' ? { biases } : {}), threads: 1 }).fit(data);
  }

  it("writes Spark's layout and schema, which loadSparkALS reads back to the same factors and equations", async () => {
    const model = await trained();
    const dir = join(await tempDir('affinity-spark-'), 'exported');
    await model.exportSpark(dir);
    expect((await readdir(dir)).sort()).toEqual(['itemFactors', 'metadata', 'userFactors']);
    const meta = JSON.parse(await readFile(join(dir, 'metadata', 'part-00000'), 'utf8'));
    expect(meta).toMatchObject({ class: 'org.apache.spark.ml.recommendation.ALSModel', rank: 4, implicitPrefs: true, alpha: 1, regParam: 0.01 });
    expect(Object.keys(meta.paramMap).sort()).toEqual(['itemCol', 'userCol']); // only params an ALSModel has: Spark's reader rejects others
    const part = (await readdir(join(dir, 'userFactors'))).find((n) => n.endsWith('.snappy.parquet'))!;
    const md = await parquetMetadataAsync(await asyncBufferFromFile(join(dir, 'userFactors', part)));
    expect(md.schema.map((s) => [s.name, s.type, s.repetition_type, s.converted_type])).toEqual(SPARK_SCHEMA.map((s) => [s.name, 'type' in s ? s.type : undefined, 'repetition_type' in s ? s.repetition_type : undefined, 'converted_type' in s ? s.converted_type : undefined]));
    expect(md.row_groups[0].columns.every((c) => c.meta_data?.codec === 'SNAPPY')).toBe(true);
    const back = await loadSparkALS(dir);
    expect(back.metadata?.source?.defaulted).toEqual([]);
    const order = Array.from(back.users.ids, (u) => model.users.indexOf(u));
    order.forEach((u, r) => expect(Array.from(back.userFactors.subarray(r * 4, r * 4 + 4))).toEqual(Array.from(model.userFactors.subarray(u * 4, u * 4 + 4))));
    const u = model.users.ids[3];
    expect(back.recommend(u, { k: 5, filterSeen: false }).map((r) => r.item)).toEqual(model.recommend(u, { k: 5, filterSeen: false }).map((r) => r.item));
  });

  it('refuses what Spark cannot hold, and an existing directory unless told to overwrite', async () => {
    const dir = join(await tempDir('affinity-spark-'), 'exported');
    await expect((await trained('explicit', true)).exportSpark(dir)).rejects.toMatchObject({ code: 'ERR_AFFINITY_UNSUPPORTED', message: expect.stringContaining('biases: false') });
    const noBias = await trained('explicit', false);
    await noBias.exportSpark(dir);
    await expect(noBias.exportSpark(dir)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CONFLICT' });
    await noBias.exportSpark(dir, { overwrite: true });
    expect((await loadSparkALS(dir)).options).toMatchObject({ feedback: 'explicit', biases: false });
    const named = await new ALS({ factors: 2, iterations: 1 }).fit(await Interactions.fromArrays({ users: ['ann', 'bob'], items: ['1', '2'] }));
    await expect(named.exportSpark(join(dir, '..', 'named'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringContaining('"ann" is not one') });
  });
});

describe('affinity import spark / export spark', () => {
  const bin = join(import.meta.dirname, '..', 'bin', 'affinity.js');
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args]);

  it('imports a Spark model directory to a model file and exports it back', async () => {
    const dir = await sparkModel();
    const work = await tempDir('affinity-spark-');
    const data = join(work, 'ratings.csv');
    await writeFile(data, 'user,item,rating\n5,40,1\n17,2,1\n');
    const file = join(work, 'spark.affinity');
    const imported = await cli('import', 'spark', dir, '--out', file, '--implicit-prefs', '--alpha', '2', '--reg-param', '0.05', '--data', data, '--columns', 'user,item,rating');
    expect(imported.stderr).toMatch(/Spark 3\.5\.0 ALS, rank 2, 3 users, 4 items, implicit ->/);
    const model = (await loadModel(file)) as ALS;
    expect(model.options).toMatchObject({ alpha: 2, regularization: 0.05, scaleRegularization: true });
    expect(model.recommend('5', { k: 4 }).map((r) => r.item)).not.toContain('40'); // seen, from --data
    const out = join(work, 'back');
    await cli('export', 'spark', file, '--out', out);
    const back = await loadSparkALS(out);
    expect(Array.from(back.itemFactors)).toEqual(Array.from(model.itemFactors));
    expect(back.options).toMatchObject({ alpha: 2, regularization: 0.05, feedback: 'implicit' });
    const bad = await cli('import', 'spark', join(work, 'nothing'), '--out', file).catch((e) => e);
    expect(bad.stderr).toMatch(/no such directory \(ERR_AFFINITY_IO\)/);
  });
});
