// bench/forest: random forest training and prediction against scikit-learn and XGBoost, same rows, split and limits.
//   Data: seeded synthetic classification, rows x 20 features (5 informative, one interaction, noise), 80% train.
//   Forest: 100 trees, depth 12, min leaf 5, sqrt(20) = 4 features per split, bootstrap, 2 threads.
//   scikit-learn RandomForestClassifier(n_jobs=2) with the same limits; XGBoost XGBRFClassifier(tree_method='hist',
//   colsample_bynode=4/20, subsample=0.632: the share of distinct rows a bootstrap draws). Prediction: all rows.
//   Peers run from /usr/bin/python3 (apt-get install python3-sklearn python3-xgboost) and are skipped where absent.
// npm run bench:forest -- [--rows 1000000] [--trees 100] [--depth 12] [--threads 2]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RandomForest } from '../src/index.js';
import { Random } from '../src/core/random.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const rows = arg('rows', 1_000_000);
const dims = 20;
const trees = arg('trees', 100);
const depth = arg('depth', 12);
const leaf = 5;
const threads = arg('threads', 2);
const maxFeatures = Math.floor(Math.sqrt(dims));
const train = Math.floor(rows * 0.8);

const random = new Random(1);
const values = new Float32Array(rows * dims);
const labels = new Int32Array(rows);
for (let r = 0; r < rows; r++) {
  let s = 0;
  for (let d = 0; d < dims; d++) {
    const v = random.normal();
    values[r * dims + d] = v;
    if (d < 5) s += v * (d + 1) * 0.3;
  }
  s += values[r * dims + 1] * values[r * dims + 2] + random.normal();
  labels[r] = s > 0 ? 1 : 0;
}

const accuracy = (p: Float64Array) => {
  let hits = 0;
  for (let r = train; r < rows; r++) hits += (p[r] > 0.5 ? 1 : 0) === labels[r] ? 1 : 0;
  return hits / (rows - train);
};

console.log(`# Random forest: ${rows} rows x ${dims} (train ${train}), ${trees} trees, depth ${depth}, min leaf ${leaf}, ${maxFeatures} features per split, ${threads} threads`);
const forest = new RandomForest({ trees, maxDepth: depth, minSamplesLeaf: leaf, maxFeatures: 'sqrt', threads, seed: 1 });
let started = performance.now();
await forest.fit({ values: values.subarray(0, train * dims), rows: train, dims }, labels.subarray(0, train));
const ourFit = (performance.now() - started) / 1000;
started = performance.now();
const proba = await forest.predictProba({ values, rows, dims });
const ourPredict = (performance.now() - started) / 1000;
const ours = { fit: ourFit, predict: ourPredict, accuracy: accuracy(proba) };
console.log(`affinity: fit ${ours.fit.toFixed(2)} s (out-of-bag accuracy ${forest.oobScore.toFixed(4)}), predict ${rows} rows ${ours.predict.toFixed(2)} s, held-out accuracy ${ours.accuracy.toFixed(4)}, ${forest.nodeCount} nodes`);

type Peer = { fit: number; predict: number; accuracy: number } | { skipped: string };
let peers: Record<string, Peer> = {};
const python = '/usr/bin/python3';
if (!existsSync(python)) console.log('peers skipped: /usr/bin/python3 is absent (apt-get install python3-sklearn python3-xgboost)');
else {
  const dir = mkdtempSync(join(tmpdir(), 'affinity-forest-'));
  const prefix = join(dir, 'data');
  writeFileSync(`${prefix}.x.f32`, values);
  writeFileSync(`${prefix}.y.i32`, labels);
  const script = fileURLToPath(new URL('./peers/forest.py', import.meta.url));
  const run = spawnSync(python, [script, JSON.stringify({ prefix, rows, dims, train, trees, depth, leaf, threads, maxFeatures })], { encoding: 'utf8', maxBuffer: 1 << 20 });
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) console.log(`peers failed: ${run.stderr.trim().split('\n').at(-1)}`);
  else peers = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, Peer>;
}

console.log('\n| | fit (s) | predict (s) | held-out accuracy | fit: peer / affinity | predict: peer / affinity |\n|---|---|---|---|---|---|');
console.log(`| affinity | ${ours.fit.toFixed(2)} | ${ours.predict.toFixed(2)} | ${ours.accuracy.toFixed(4)} | | |`);
for (const [name, p] of Object.entries(peers)) {
  if ('skipped' in p) console.log(`| ${name} | skipped: ${p.skipped} | | | | |`);
  else console.log(`| ${name} | ${p.fit.toFixed(2)} | ${p.predict.toFixed(2)} | ${p.accuracy.toFixed(4)} | ${(p.fit / ours.fit).toFixed(2)}x | ${(p.predict / ours.predict).toFixed(2)}x |`);
}
