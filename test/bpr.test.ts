// BPR: the SGD step against a plain reference, learning on planted structure (held-out AUC), one-thread
// determinism, and the ALS scoring it inherits.
import { describe, expect, it } from 'vitest';
import { BPR, Interactions } from '../src/index.js';
import { native } from '../src/core/native.js';
import { Random } from '../src/core/random.js';
import { atEachLevel } from './helpers.js';

/** The step of Rendle et al. with the bias as the last component (its user side fixed at 1). */
function referenceStep(xu: number[], yi: number[], yj: number[], lr: number, reg: number): { x: number; xu: number[]; yi: number[]; yj: number[] } {
  const x = xu.reduce((s, v, k) => s + v * (yi[k] - yj[k]), 0);
  const z = 1 / (1 + Math.exp(x));
  const last = xu.length - 1;
  return {
    x,
    xu: xu.map((v, k) => (k === last ? v : v + lr * (z * (yi[k] - yj[k]) - reg * v))),
    yi: yi.map((v, k) => v + lr * (z * xu[k] - reg * v)),
    yj: yj.map((v, k) => v + lr * (-z * xu[k] - reg * v)),
  };
}

/** Users in 6 groups, each buying mostly from its own block of 30 items; a fifth of each user's items held out. */
async function planted(seed: number): Promise<{ train: Interactions; held: Map<number, number[]> }> {
  const rng = new Random(seed);
  const rows: number[] = [], cols: number[] = [];
  const held = new Map<number, number[]>();
  for (let u = 0; u < 300; u++) {
    const group = u % 6;
    const mine = new Set<number>();
    while (mine.size < 15) mine.add(rng.next() < 0.9 ? group * 30 + rng.int(30) : rng.int(180));
    const list = [...mine];
    held.set(u, list.slice(0, 3));
    for (const i of list.slice(3)) rows.push(u), cols.push(i);
  }
  const train = await Interactions.fromIndices({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), shape: [300, 180] }, {});
  return { train, held };
}

/** Mean over users of the AUC of held-out items against items the user never had. */
function heldOutAuc(model: BPR, train: Interactions, held: Map<number, number[]>): number {
  let total = 0;
  for (const [u, items] of held) {
    const seen = new Set(train.csr.indices.subarray(train.csr.indptr[u], train.csr.indptr[u + 1]));
    const scores = model.score(train.users.ids[u], [...train.items.ids]);
    const negatives = scores.filter((_, i) => !seen.has(i) && !items.includes(i));
    let wins = 0;
    for (const i of items) for (const s of negatives) wins += scores[i] > s ? 1 : scores[i] === s ? 0.5 : 0;
    total += wins / (items.length * negatives.length);
  }
  return total / held.size;
}

describe('BPR', () => {
  it('steps as the reference does, at every SIMD level', async () => {
    const rng = new Random(3);
    await atEachLevel(async (level) => {
      for (const width of [1, 2, 9, 17, 65]) {
        const v = () => Array.from({ length: width }, () => rng.next() - 0.5);
        const xu = v(), yi = v(), yj = v();
        xu[width - 1] = 1;
        const want = referenceStep(xu, yi, yj, 0.05, 0.01);
        const a = Float32Array.from(xu), b = Float32Array.from(yi), c = Float32Array.from(yj);
        expect(native.bprStep(a, b, c, 0.05, 0.01)).toBeCloseTo(want.x, 5);
        for (const [got, exp] of [[a, want.xu], [b, want.yi], [c, want.yj]] as const)
          got.forEach((g, k) => expect(g, `${level} width ${width}`).toBeCloseTo(exp[k], 5));
      }
    });
  });

  it('learns planted structure: held-out AUC far above chance, and the ranked share rises by epoch', async () => {
    const { train, held } = await planted(1);
    const untrained = await new BPR({ factors: 16, epochs: 0, threads: 1 }).fit(train);
    const seen: number[] = [];
    const model = await new BPR({ factors: 16, epochs: 40, learningRate: 0.05, threads: 1 }).fit(train, { onIteration: (_, c) => seen.push(c) });
    expect(heldOutAuc(untrained, train, held)).toBeLessThan(0.6);
    expect(heldOutAuc(model, train, held)).toBeGreaterThan(0.85);
    expect(seen).toEqual(model.correct);
    expect(seen.length).toBe(40);
    expect(seen.at(-1)!).toBeGreaterThan(seen[0] + 0.2);
    // Several threads (Hogwild) learn as well.
    const parallel = await new BPR({ factors: 16, epochs: 40, learningRate: 0.05, threads: 2 }).fit(train);
    expect(heldOutAuc(parallel, train, held)).toBeGreaterThan(0.85);
  });

  it('is reproducible bit for bit on one thread, and the seed matters', async () => {
    const { train } = await planted(2);
    const fit = (seed: number) => new BPR({ factors: 8, epochs: 5, threads: 1, seed }).fit(train);
    const [a, b, c] = [await fit(7), await fit(7), await fit(8)];
    expect(Buffer.from(a.itemFactors.buffer).equals(Buffer.from(b.itemFactors.buffer))).toBe(true);
    expect(Buffer.from(a.userFactors.buffer).equals(Buffer.from(b.userFactors.buffer))).toBe(true);
    expect(Buffer.from(a.itemFactors.buffer).equals(Buffer.from(c.itemFactors.buffer))).toBe(false);
  });

  it('keeps a bias per item as the last factor, with the users\' component at 1', async () => {
    const { train } = await planted(3);
    const model = await new BPR({ factors: 4, epochs: 3, threads: 1 }).fit(train);
    expect(model.factors.factors).toBe(5);
    for (let u = 0; u < train.userCount; u++) expect(model.userFactors[u * 5 + 4]).toBe(1);
  });

  it('rejects bad options and refuses partialFit', async () => {
    for (const o of [{ learningRate: 0 }, { factors: 0 }, { factors: 1024 }, { epochs: -1 }, { regularization: -1 }, { verifyNegatives: 'yes' }, { seed: -1 }])
      expect(() => new BPR(o as never)).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    const { train } = await planted(4);
    const model = await new BPR({ factors: 4, epochs: 1 }).fit(train);
    await expect(model.partialFit(train, { users: [train.users.ids[0]] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_UNSUPPORTED' });
  });

  it('reports a learning rate that diverges instead of returning NaN factors', async () => {
    const { train } = await planted(5);
    await expect(new BPR({ factors: 8, epochs: 30, learningRate: 1e30, regularization: 0, threads: 1 }).fit(train)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });
});
