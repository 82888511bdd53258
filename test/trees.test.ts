// Trees and forests: node for node against the plain reference, categorical and missing-value paths, the
// out-of-bag estimate against held-out data, importances, inspection, files, and bad input.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../src/core/native.js';
import { Random } from '../src/core/random.js';
import { DecisionTree, FeatureTable, loadModel, RandomForest, type Matrix } from '../src/index.js';
import { referenceForest, type RefTreeOptions } from './reference-trees.js';

function dataset(rows: number, dims: number, seed: number, options: { missing?: number; categorical?: number[]; classes?: number } = {}) {
  const random = new Random(seed);
  const values = new Float32Array(rows * dims);
  const label = new Int32Array(rows);
  const target = new Float32Array(rows);
  const classes = options.classes ?? 2;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const categorical = options.categorical?.includes(d);
      const v = categorical ? random.int(12) : Math.round(random.normal() * 40) / 8;
      values[r * dims + d] = random.next() < (options.missing ?? 0) ? NaN : v;
      s += categorical ? ([1, 4, 7, 9].includes(v) ? 1.5 : -0.5) : d < 3 ? v * (d + 1) * 0.4 : 0;
    }
    s += random.normal() * 0.8;
    label[r] = classes === 2 ? (s > 0 ? 1 : 0) : Math.min(classes - 1, Math.max(0, Math.floor(s + classes / 2)));
    target[r] = s;
  }
  return { x: { values, rows, dims } as Matrix, label, target };
}

function compare(kind: 'classification' | 'regression', options: Partial<RefTreeOptions> & { classes?: number; categorical?: number[]; missing?: number; maxBins?: number; weights?: boolean }) {
  const rows = 600;
  const dims = 5;
  const { x, label, target } = dataset(rows, dims, 11, options);
  const o: RefTreeOptions = { criterion: kind === 'regression' ? 'squared_error' : 'gini', maxDepth: 6, minSamplesLeaf: 3, minSamplesSplit: 2, maxFeatures: 2, trees: 3, bootstrap: true, seed: 5, ...options };
  const categorical = Uint8Array.from({ length: dims }, (_, d) => (options.categorical?.includes(d) ? 1 : 0));
  const bins = native.treeBins(x, categorical, options.maxBins ?? 255);
  const classes = options.classes ?? 2;
  const weights = options.weights ? Float32Array.from({ length: rows }, (_, i) => 0.5 + (i % 3) * 0.75) : undefined;
  const reference = referenceForest(
    { rows, dims, bins: bins.bins, binCount: bins.binCount, edges: bins.edges, categorical: Array.from(categorical, Boolean), task: kind, classes, label, target, weights },
    o,
  );
  return native
    .forestFit(x, categorical, kind === 'regression' ? target : null, kind === 'classification' ? label : null, weights ?? null, {
      task: kind === 'classification' ? 0 : 1,
      criterion: { gini: 0, entropy: 1, squared_error: 2 }[o.criterion],
      outputs: kind === 'classification' ? classes : 1,
      maxDepth: o.maxDepth,
      minSamplesSplit: o.minSamplesSplit,
      minSamplesLeaf: o.minSamplesLeaf,
      minSamplesArm: 1,
      maxFeatures: o.maxFeatures,
      minImpurityDecrease: 0,
      honest: false,
      trees: o.trees,
      bootstrap: o.bootstrap,
      maxBins: options.maxBins ?? 255,
      seed: o.seed,
      threads: 2,
    }, null, null)
    .then(({ forest: f }) => {
      expect(f.treeOffsets.length - 1).toBe(o.trees);
      let splits = 0;
      reference.forEach((nodes, t) => {
        const base = f.treeOffsets[t];
        expect(f.treeOffsets[t + 1] - base, `tree ${t} size`).toBe(nodes.length);
        nodes.forEach((n, i) => {
          const g = base + i;
          const where = `tree ${t} node ${i}`;
          expect(f.feature[g], where).toBe(n.feature);
          expect(f.samples[g], where).toBe(n.samples);
          expect(Array.from(f.value.subarray(g * f.outputs, (g + 1) * f.outputs)), where).toEqual(n.value);
          if (n.feature < 0) return;
          splits++;
          expect([f.left[g], f.right[g]], where).toEqual([n.left, n.right]);
          expect((f.flags[g] & 1) === 1, `${where} missing side`).toBe(n.missingLeft);
          if (n.leftCategories) {
            const left = Array.from({ length: 255 }, (_, c) => c).filter((c) => (f.catBits[f.catOffset[g] + (c >> 5)] >>> (c & 31)) & 1);
            expect(left, where).toEqual(n.leftCategories);
          } else expect(f.threshold[g], where).toBe(n.threshold);
        });
      });
      expect(splits).toBeGreaterThan(20);
    });
}

describe('native trees match the plain reference node for node', () => {
  it('gini, bootstrap, two features per split', () => compare('classification', {}));
  it('entropy, three classes, no bootstrap, all features', () => compare('classification', { criterion: 'entropy', classes: 3, bootstrap: false, maxFeatures: 5, trees: 1, maxDepth: 8 }));
  it('categorical features and missing values, sample weights', () => compare('classification', { categorical: [1, 3], missing: 0.15, weights: true }));
  it('regression with missing values and few bins', () => compare('regression', { missing: 0.1, maxBins: 16, minSamplesLeaf: 5 }));
});

describe('RandomForest', () => {
  const train = dataset(6000, 8, 1);
  const test = dataset(3000, 8, 2);

  it('learns, and its out-of-bag accuracy tracks held-out accuracy', async () => {
    const forest = await new RandomForest({ trees: 60, minSamplesLeaf: 2, seed: 3 }).fit(train.x, train.label);
    const predicted = await forest.predict(test.x);
    const accuracy = predicted.reduce((a, p, i) => a + (p === test.label[i] ? 1 : 0), 0) / test.label.length;
    expect(accuracy).toBeGreaterThan(0.85);
    expect(Math.abs(forest.oobScore - accuracy)).toBeLessThan(0.02);
    const proba = await forest.predictProba(test.x);
    expect(proba.length).toBe(3000);
    proba.forEach((p, i) => expect(p > 0.5 ? 1 : 0).toBe(predicted[i]));
    // Impurity importance: the informative features (0-2) lead the noise (3-7).
    const imp = forest.featureImportances;
    for (const noise of [3, 4, 5, 6, 7]) expect(Math.min(imp[0], imp[1], imp[2])).toBeGreaterThan(imp[noise]);
    const perm = await forest.permutationImportance(test.x, test.label, { repeats: 2 });
    for (const noise of [3, 4, 5, 6, 7]) expect(perm.mean[2]).toBeGreaterThan(perm.mean[noise] + 0.01);
  });

  it('is the same forest whatever the thread count, and differs with the seed', async () => {
    const a = await new RandomForest({ trees: 12, threads: 1, seed: 9 }).fit(train.x, train.label);
    const b = await new RandomForest({ trees: 12, threads: 2, seed: 9 }).fit(train.x, train.label);
    const c = await new RandomForest({ trees: 12, threads: 2, seed: 10 }).fit(train.x, train.label);
    expect(a.toParts().arrays).toEqual(b.toParts().arrays);
    expect(a.toParts().arrays.threshold).not.toEqual(c.toParts().arrays.threshold);
  });

  it('regresses, with R² out of bag', async () => {
    const forest = await new RandomForest({ task: 'regression', trees: 40, maxFeatures: 0.5 }).fit(train.x, train.target);
    const predicted = await forest.predict(test.x);
    const mean = test.target.reduce((a, b) => a + b, 0) / test.target.length;
    let sse = 0, sst = 0;
    predicted.forEach((p, i) => ((sse += (p - test.target[i]) ** 2), (sst += (test.target[i] - mean) ** 2)));
    expect(1 - sse / sst).toBeGreaterThan(0.7);
    expect(Math.abs(forest.oobScore - (1 - sse / sst))).toBeLessThan(0.05);
    await expect(forest.predictProba(test.x)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it('cancels through an AbortSignal and reports progress', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const fit = new RandomForest({ trees: 400, threads: 1 }).fit(train.x, train.label, {
      signal: controller.signal,
      onProgress: (f) => {
        seen.push(f);
        controller.abort();
      },
    });
    await expect(fit).rejects.toMatchObject({ code: 'ERR_AFFINITY_CANCELLED' });
    const done: number[] = [];
    await new RandomForest({ trees: 30 }).fit(train.x, train.label, { onProgress: (f) => done.push(f) });
    expect(done.at(-1)).toBe(1);
  });
});

describe('FeatureTable and tree inspection', () => {
  const csv = ['recency,channel,vip,spend,visit'];
  const random = new Random(4);
  for (let i = 0; i < 800; i++) {
    const channel = ['Web', 'Phone', 'Multichannel', 'Store'][random.int(4)];
    const recency = random.int(12) + 1;
    const vip = random.next() < 0.3 ? 'yes' : random.next() < 0.1 ? '' : 'no';
    const visit = (channel === 'Web' || channel === 'Store') && recency < 6 ? 1 : vip === '' ? 1 : 0;
    csv.push(`${recency},${channel},${vip},${(random.next() * 100).toFixed(2)},${visit}`);
  }

  it('reads kinds, categories and gaps; trees use categories natively and learn the missing branch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-trees-'));
    const path = join(dir, 'customers.csv');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, csv.join('\n')));
    const table = await FeatureTable.fromFile(path, { target: 'visit', exclude: ['spend'] });
    expect(table.schema.features.map((c) => [c.name, c.kind])).toEqual([['recency', 'numeric'], ['channel', 'categorical'], ['vip', 'boolean']]);
    const tree = await new DecisionTree({ maxDepth: 3 }).fit(table, 'visit');
    expect(tree.classes).toEqual([0, 1]);
    const predicted = await tree.predict(table);
    const truth = table.numbers('visit');
    expect(predicted.every((p, i) => p === truth[i])).toBe(true);
    const json = tree.toJSON();
    const splits: { feature: string; categories?: string[]; missing: string }[] = [];
    const walk = (n: ReturnType<typeof tree.toJSON>) => {
      if ('feature' in n) splits.push(n), walk(n.left), walk(n.right);
    };
    walk(json);
    const channelSplit = splits.find((s) => s.feature === 'channel');
    expect([['Store', 'Web'], ['Multichannel', 'Phone']]).toContainEqual(channelSplit?.categories?.sort());
    expect(tree.describe({ depth: 2 })).toMatch(/if (channel in \{|recency <=|vip <=)/);
    // Serving: records are encoded as training encoded them; an unknown category takes the missing branch.
    const out = tree.predictRecords([{ recency: 2, channel: 'Web', vip: 'no' }, { recency: 2, channel: 'Carrier pigeon', vip: 'no' }, { recency: 2, vip: 'no' }]);
    expect(out[1]).toBe(1);
    expect(Array.from(out.subarray(2, 4))).toEqual(Array.from(out.subarray(4, 6)));
    // Files keep the schema and the forest.
    await tree.save(join(dir, 'tree.affinity'));
    const back = (await loadModel(join(dir, 'tree.affinity'))) as DecisionTree;
    expect(Array.from(await back.predict(table))).toEqual(Array.from(predicted));
    expect(back.schema).toEqual(tree.schema);
    expect(back.describe()).toBe(tree.describe());
  });
});

describe('bad input', () => {
  const { x, label, target } = dataset(200, 3, 7);
  it('is refused with a code', async () => {
    await expect(new RandomForest().fit(x, new Int32Array(200).fill(1))).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringMatching(/single class/) });
    await expect(new RandomForest({ task: 'regression' }).fit(x, new Float32Array(200).fill(3))).rejects.toMatchObject({ message: expect.stringMatching(/constant/) });
    await expect(new RandomForest().fit(x, label.subarray(0, 10))).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
    const infinite = { ...x, values: x.values.slice() };
    infinite.values[4] = Infinity;
    await expect(new RandomForest().fit(infinite, label)).rejects.toMatchObject({ message: expect.stringMatching(/infinite/) });
    await expect(new RandomForest({ task: 'regression' }).fit(x, Array.from(target, (v, i) => (i === 3 ? NaN : v)))).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    expect(() => new RandomForest({ maxFeatures: 0 })).toThrow(/maxFeatures/);
    expect(() => new RandomForest({ trees: 0 })).toThrow(/trees/);
    expect(() => new DecisionTree({ trees: 4 } as never)).toThrow(/RandomForest/);
    expect(() => new RandomForest({ criterion: 'squared_error' })).toThrow(/criterion/);
    await expect(new RandomForest().predict(x)).rejects.toMatchObject({ code: 'ERR_AFFINITY_NOT_FITTED' });
    const forest = await new RandomForest({ trees: 3 }).fit(x, label);
    await expect(forest.predict({ values: new Float32Array(8), rows: 2, dims: 4 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
  });
});

describe('the propensity pipeline with a forest', () => {
  it('scores customers with path attributions that add up to the prediction, and survives a file', async () => {
    const { demoShop } = await import('../src/data/synthetic.js');
    const { churnDataset, PropensityScorer } = await import('../src/analytics/churn.js');
    const shop = await demoShop(6, 400, 8000);
    const end = shop.transactions.timeRange[1] + 1;
    const train = churnDataset(shop.transactions, { cutoff: end - 60 * 86400, horizonDays: 60 });
    const forest = await new RandomForest({ trees: 30, minSamplesLeaf: 3, classWeight: 'balanced', featureNames: train.featureNames }).fit(train.features, train.labels);
    const scorer = new PropensityScorer(forest, churnDataset(shop.transactions, { cutoff: end, horizonDays: 60 }));
    const ids = scorer.dataset.customers.ids.slice(0, 5);
    const scored = scorer.score([...ids, 'nobody'], 3);
    expect(scored.unknown).toEqual(['nobody']);
    expect(scored[0].attributions.map((a) => a.feature).every((f) => train.featureNames.includes(f))).toBe(true);
    const d = scorer.dataset.features.dims;
    const row = scorer.dataset.features.values.subarray(0, d);
    const { bias, contributions } = forest.contributions(row);
    expect(bias + contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(scored[0].probability, 5);
    const path = join(await mkdtemp(join(tmpdir(), 'affinity-churn-')), 'churn.affinity');
    await scorer.save(path);
    const back = (await loadModel(path)) as InstanceType<typeof PropensityScorer>;
    expect(back.score([...ids], 3)).toEqual(scorer.score([...ids], 3));
    // Erasure: the forgotten customer's row goes; every other customer scores as before.
    const without = await scorer.withoutCustomers([ids[1]]);
    expect(without.dataset.customers.size).toBe(scorer.dataset.customers.size - 1);
    expect(without.score([...ids], 3).unknown).toEqual([ids[1]]);
    expect([...without.score([...ids], 3)]).toEqual(scorer.score([ids[0], ...ids.slice(2)], 3));
    expect(await scorer.withoutCustomers(['nobody'])).toBe(scorer);
  });
});
