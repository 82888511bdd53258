// bench/lake: the data lake's formats. (1) The retail purchase lines (541,909 rows) read from the zstd
// Parquet file and from the gzip CSV copy, with the same columns and conditions, as Transactions and as
// Interactions: median of 3 runs each, interleaved. (2) A Spark ALSModel directory of lastfm size
// (360k users x 160k items, rank 64, in 8 snappy parts per side, written here in Spark's layout) loaded
// with loadSparkALS.   npm run bench:lake -- [--runs 3] [--users 360000] [--items 160000] [--rank 64]
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Interactions, Transactions, loadSparkALS } from '../src/index.js';
import { SPARK_FACTOR_SCHEMA } from '../src/io/sparkdir.js';

const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const runs = Number(arg('runs', '3'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

const retail = fileURLToPath(new URL('../../shared/data/uci-online-retail/', import.meta.url));
if (!existsSync(join(retail, 'online_retail.parquet'))) console.log(`skipped the retail comparison: ${retail} is missing`);
else {
  const where = { CustomerID: { empty: false }, Quantity: { gt: 0 }, InvoiceNo: { notStartsWith: 'C' } };
  const columns = { customer: 'CustomerID', item: 'StockCode', time: 'InvoiceDate', quantity: 'Quantity', price: 'UnitPrice', basket: 'InvoiceNo' };
  const reads = {
    'Transactions.fromFile': (p: string) => Transactions.fromFile(p, { columns, where }),
    'Interactions.fromFile': (p: string) => Interactions.fromFile(p, { columns: { user: 'CustomerID', item: 'StockCode', value: 'Quantity' }, where }),
  };
  console.log('| read | gzip CSV (s) | zstd Parquet (s) | CSV / Parquet |');
  console.log('|---|---|---|---|');
  for (const [name, read] of Object.entries(reads)) {
    const csv: number[] = [];
    const parquet: number[] = [];
    for (let r = 0; r < runs; r++) {
      csv.push(await time(() => read(join(retail, 'online_retail.csv.gz'))));
      parquet.push(await time(() => read(join(retail, 'online_retail.parquet'))));
    }
    console.log(`| ${name} | ${median(csv).toFixed(2)} | ${median(parquet).toFixed(2)} | ${(median(csv) / median(parquet)).toFixed(2)}x |`);
  }
}

const users = Number(arg('users', '360000'));
const items = Number(arg('items', '160000'));
const rank = Number(arg('rank', '64'));
const dir = await mkdtemp(join(tmpdir(), 'affinity-lake-'));
const schema = SPARK_FACTOR_SCHEMA;
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2;
const writeSide = async (name: string, n: number) => {
  await mkdir(join(dir, name), { recursive: true });
  const parts = 8;
  for (let p = 0; p < parts; p++) {
    const ids: number[] = [];
    for (let i = p; i < n; i += parts) ids.push(i * 3 + 1); // not dense, spread over the parts as Spark's hash partitioning does
    const features = ids.map(() => Float32Array.from({ length: rank }, rand));
    const bytes = parquetWriteBuffer({ columnData: [{ name: 'id', data: Int32Array.from(ids) }, { name: 'features', data: features.map((f) => Array.from(f)) }], schema, codec: 'SNAPPY', rowGroupSize: 1 << 20 });
    await writeFile(join(dir, name, `part-0000${p}-bench-c000.snappy.parquet`), Buffer.from(bytes));
  }
  await writeFile(join(dir, name, '_SUCCESS'), '');
};
await mkdir(join(dir, 'metadata'));
await writeFile(join(dir, 'metadata', 'part-00000'), JSON.stringify({ class: 'org.apache.spark.ml.recommendation.ALSModel', timestamp: Date.now(), sparkVersion: '3.5.0', uid: 'ALS_bench', paramMap: {}, defaultParamMap: { userCol: 'user', itemCol: 'item' }, rank, implicitPrefs: true, alpha: 10, regParam: 0.05 }) + '\n');
await writeSide('userFactors', users);
await writeSide('itemFactors', items);
const loads: number[] = [];
for (let r = 0; r < runs; r++) loads.push(await time(() => loadSparkALS(dir)));
const factorBytes = (users + items) * rank * 4;
console.log(`\nloadSparkALS, ${users} users x ${items} items, rank ${rank} (${(factorBytes / 1e6).toFixed(0)} MB of factors): median ${median(loads).toFixed(2)} s of ${runs} (${(factorBytes / 1e6 / median(loads)).toFixed(0)} MB/s)`);
if (!argv.includes("--keep")) await rm(dir, { recursive: true, force: true });
else console.log("kept", dir);
