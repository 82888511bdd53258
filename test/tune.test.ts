// tune(): random search with successive halving on a validation split of the data it is given; the test
// split never reaches it (poisoning the test split changes nothing); the best setting is refit on all of it.
import { describe, expect, it } from 'vitest';
import { EASE, evaluate, split, tune, type Trial } from '../src/index.js';
import { randomInteractions } from './helpers.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('tune', () => {
  it('never touches the test split: poisoning it leaves every trial and the result unchanged', async () => {
    const data = await randomInteractions({ users: 120, items: 60, density: 0.12, seed: 21, values: 'ones' });
    const { train, test } = await split(data, { testFraction: 0.2, seed: 5 });
    const run = () => tune(train, { model: 'als', budget: 6, seed: 9, fixed: { threads: 1 }, space: { factors: { values: [4, 8] }, regularization: { min: 0.01, max: 1, log: true }, iterations: { values: [3, 6] } } });
    const before = await run();
    // Poison what a leak would read: the test interactions' items, values and sizes.
    test.csr.data.fill(Number.NaN);
    test.csr.indices.reverse();
    const after = await run();
    const strip = (t: Trial[]) => t.map(({ fitSeconds: _, ...rest }) => rest);
    expect(strip(after.trials)).toEqual(strip(before.trials));
    expect(after.best).toEqual(before.best);
  });

  it('halves: every setting at a fraction of its iterations, the best third promoted, the winner at full length', async () => {
    const data = await randomInteractions({ users: 100, items: 50, density: 0.15, seed: 22, values: 'ones' });
    const seen: Trial[] = [];
    const progress: number[] = [];
    const r = await tune(data, { model: 'als', budget: 9, eta: 3, seed: 1, fixed: { factors: 4 }, space: { regularization: { min: 0.001, max: 1, log: true }, iterations: { values: [9] } }, onTrial: (t) => seen.push(t), onProgress: (f) => progress.push(f) });
    expect(r.trials.map((t) => t.rung)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2]);
    expect(r.trials.map((t) => t.params.iterations)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9]);
    const rung0 = r.trials.filter((t) => t.rung === 0).sort((a, b) => b.metric - a.metric || a.id - b.id);
    expect(r.trials.filter((t) => t.rung === 1).map((t) => t.id).sort()).toEqual(rung0.slice(0, 3).map((t) => t.id).sort());
    expect(r.best.params).toMatchObject({ factors: 4, iterations: 9 });
    expect(r.best.metric).toBe(r.trials.at(-1)!.metric);
    expect(seen).toEqual(r.trials);
    expect(progress.at(-1)).toBe(1);
    for (const t of r.trials) {
      expect(t.params.regularization).toBeGreaterThanOrEqual(0.001);
      expect(t.params.regularization).toBeLessThanOrEqual(1);
      expect(t.fitSeconds).toBeGreaterThan(0);
    }
    // The model is the best setting refit on everything tune was given.
    expect(r.model.fitted).toBe(true);
    expect(r.model.data!.size).toBe(data.size);
  });

  it('searches a model without a training length by plain random search, and picks the best trial', async () => {
    const data = await randomInteractions({ users: 100, items: 50, density: 0.15, seed: 23, values: 'ones' });
    const r = await tune(data, { model: 'ease', budget: 5, seed: 3, metric: 'recall@5' });
    expect(r.trials).toHaveLength(5);
    expect(r.best.metric).toBe(Math.max(...r.trials.map((t) => t.metric)));
    expect(r.model).toBeInstanceOf(EASE);
    // Each trial's figure is its setting fitted on the validation split's training part and scored on its held-out part.
    const { train, test: validation } = await split(data, { testFraction: 0.2, seed: 3 });
    const t = r.trials[2];
    const again = await evaluate(await new EASE(t.params).fit(train), train, validation, { k: 5, metrics: ['recall'] });
    expect(t.metric).toBeGreaterThan(0);
    expect(t.metric).toBe(again.recall);
    const itemknn = await tune(data, { model: 'itemknn', budget: 6, seed: 4 });
    for (const t of itemknn.trials) if (t.params.measure === 'jaccard' || t.params.measure === 'lift') expect(t.params.weighting).toBe('none');
  });

  it('rejects bad options before any work, and cancels', async () => {
    const data = await randomInteractions({ users: 40, items: 20, density: 0.2, seed: 24, values: 'ones' });
    for (const o of [{ model: 'svd' }, {}, { model: 'als', metric: 'ndcg' }, { model: 'als', metric: 'auc@10' }, { model: 'als', budget: 0 }, { model: 'als', space: { factors: { min: 5, max: 1 } } }, { model: 'ease', space: { lambda: { min: 0, max: 10, log: true } } }, { model: 'als', space: { factors: { values: [] } } }, { model: 'ease', fixed: { lambda: -1 } }])
      await expect(tune(data, o as never)).rejects.toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    const controller = new AbortController();
    controller.abort();
    await expect(tune(data, { model: 'ease', budget: 2, signal: controller.signal })).rejects.toThrow(code('ERR_AFFINITY_CANCELLED'));
  });
});
