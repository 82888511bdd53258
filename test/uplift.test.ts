// Uplift: scikit-uplift's metric definitions on a hand-computed case and against a brute-force reading of
// the definitions, each method recovering a planted effect for two arms, targeting plans, files, bad input.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { FeatureTable, loadModel, qiniAucScore, qiniCurve, targetingPlan, upliftAtK, upliftAucScore, upliftCurve, UpliftModel, type UpliftMethod } from '../src/index.js';

describe('metrics', () => {
  it('match a hand-computed case', () => {
    const y = [1, 0, 1, 0];
    const u = [4, 3, 2, 1];
    const t = [1, 0, 0, 1];
    expect(Array.from(qiniCurve(y, u, t).y)).toEqual([0, 1, 1, 0.5, 0]);
    expect(Array.from(upliftCurve(y, u, t).y)).toEqual([0, 1, 2, 1.5, 0]);
    // Qini area 2.5 against the perfect 3 (random baseline 0); the ranking is the perfect uplift ranking.
    expect(qiniAucScore(y, u, t)).toBeCloseTo(2.5 / 3, 12);
    expect(upliftAucScore(y, u, t)).toBeCloseTo(1, 12);
    expect(upliftAtK(y, u, t, 0.5)).toBe(1);
    // Ties form one step.
    expect(Array.from(qiniCurve(y, [1, 1, 0, 0], t).x)).toEqual([0, 2, 4]);
  });

  it('match a brute-force reading of the definitions on random data', () => {
    const random = new Random(3);
    const n = 300;
    const y = Array.from({ length: n }, () => (random.next() < 0.3 ? 1 : 0));
    const t = Array.from({ length: n }, () => (random.next() < 0.5 ? 1 : 0));
    const u = Array.from({ length: n }, () => Math.round(random.normal() * 10) / 10);
    const thresholds = [...new Set(u)].sort((a, b) => b - a);
    const at = (cut: number) => {
      const top = u.flatMap((v, i) => (v >= cut ? [i] : []));
      const nt = top.filter((i) => t[i]).length, nc = top.length - nt;
      const yt = top.filter((i) => t[i]).reduce((a, i) => a + y[i], 0), yc = top.filter((i) => !t[i]).reduce((a, i) => a + y[i], 0);
      return { k: top.length, qini: yt - (nc ? (yc * nt) / nc : 0), uplift: ((nt ? yt / nt : 0) - (nc ? yc / nc : 0)) * top.length };
    };
    const q = qiniCurve(y, u, t);
    thresholds.forEach((cut, i) => {
      const e = at(cut);
      expect(q.x[i + 1]).toBe(e.k);
      expect(q.y[i + 1]).toBeCloseTo(e.qini, 9);
      expect(upliftCurve(y, u, t).y[i + 1]).toBeCloseTo(e.uplift, 9);
    });
    // A random ranking scores near 0; the oracle ranking scores 1.
    const oracle = y.map((yi, i) => yi * t[i] - yi * (1 - t[i]));
    expect(qiniAucScore(y, oracle, t)).toBeCloseTo(1, 12);
    expect(Math.abs(qiniAucScore(y, u, t))).toBeLessThan(0.3);
  });

  it('refuse what they cannot score', () => {
    expect(() => qiniAucScore([1, 0], [1, 2], [1, 1])).toThrow(/treated and control/);
    expect(() => qiniAucScore([1, NaN], [1, 2], [1, 0])).toThrow(/outcome 1/);
    expect(() => upliftAtK([1, 0], [1, 2], [1, 0], 1.5)).toThrow(/k must/);
  });
});

// Arm A lifts the response by 0.25 for young customers on the web; arm B by 0.2 for the rest of the web
// channel; the phone channel never responds to either. Age also moves the baseline for everyone.
function campaign(rows: number, seed: number) {
  const random = new Random(seed);
  const columns: Record<string, (string | number)[]> = { age: [], channel: [], score: [], arm: [], converted: [] };
  for (let i = 0; i < rows; i++) {
    const age = 18 + random.int(50);
    const channel = ['web', 'phone', 'web', 'store'][random.int(4)];
    const arm = ['control', 'A', 'B'][random.int(3)];
    let p = 0.1 + (age > 40 ? 0.1 : 0);
    if (arm === 'A' && channel === 'web' && age < 35) p += 0.25;
    if (arm === 'B' && channel !== 'phone' && age >= 35) p += 0.2;
    columns.age.push(age);
    columns.channel.push(channel);
    columns.score.push(Math.round(random.next() * 100));
    columns.arm.push(arm);
    columns.converted.push(random.next() < p ? 1 : 0);
  }
  return FeatureTable.fromColumns(columns);
}

function plantedEffect(arm: string, age: number, channel: string): number {
  if (arm === 'A') return channel === 'web' && age < 35 ? 0.25 : 0;
  return channel !== 'phone' && age >= 35 ? 0.2 : 0;
}

function trueQini(table: FeatureTable, arm: string): number {
  const labels = table.labels('arm');
  const age = table.numbers('age');
  const channel = table.labels('channel');
  const y = table.numbers('converted');
  const rows = labels.flatMap((l, i) => (l === arm || l === 'control' ? [i] : []));
  return qiniAucScore(rows.map((i) => y[i]), rows.map((i) => plantedEffect(arm, age[i], channel[i]!)), rows.map((i) => (labels[i] === arm ? 1 : 0)));
}

describe('UpliftModel', () => {
  const train = campaign(24000, 1);
  const test = campaign(12000, 2);
  const spec = { outcome: 'converted', treatment: 'arm', control: 'control' };
  const models = new Map<UpliftMethod, UpliftModel>();

  beforeAll(async () => {
    for (const method of ['two-model', 'class-transformation', 'uplift-forest'] as UpliftMethod[])
      models.set(method, await new UpliftModel({ method, trees: 40, maxDepth: 6, seed: 4 }).fit(train, spec));
  });

  for (const method of ['two-model', 'class-transformation', 'uplift-forest'] as UpliftMethod[])
    it(`${method} recovers the planted effect for both arms`, async () => {
      const model = models.get(method)!;
      expect(model.arms).toEqual(['A', 'B']);
      const report = await model.evaluate(test, spec);
      for (const r of report) {
        // Against the ranking by the planted effect itself (the best any model can do on average).
        const truth = trueQini(test, r.arm);
        expect(r.qini, `${method} ${r.arm}`).toBeGreaterThan(0.75 * truth);
        expect(r.upliftAt30).toBeGreaterThan(0.1);
      }
      const probe = FeatureTable.fromRecords([
        { age: 25, channel: 'web', score: 50 },
        { age: 55, channel: 'store', score: 50 },
        { age: 25, channel: 'phone', score: 50 },
      ]);
      const { uplift, best } = await model.predict(probe, {});
      // Young web customers: A (~0.25) beats B (~0); older store customers: B; phone: close to nothing.
      expect(best[0]).toBe(0);
      expect(uplift[0]).toBeGreaterThan(0.12);
      expect(best[1]).toBe(1);
      expect(uplift[3]).toBeGreaterThan(0.1);
      expect(Math.max(Math.abs(uplift[4]), Math.abs(uplift[5]))).toBeLessThan(0.1);
      // Age moves both the baseline and the effect: it leads. (Impurity importance favours the many-valued
      // noise column over the three-valued channel, as it does in every CART implementation.)
      const [age, channel, score] = model.featureImportances;
      expect(age).toBeGreaterThan(Math.max(channel, score));
      // Served rows give the same figures as the batch path.
      const served = model.predictRecords([{ age: 25, channel: 'web', score: 50 }]);
      expect(served.uplift[0]).toBeCloseTo(uplift[0], 6);
    });

  it('a random ranking scores near zero on the same data', () => {
    const random = new Random(8);
    const labels = test.labels('arm');
    const y = test.numbers('converted');
    const rows = labels.flatMap((l, i) => (l !== 'B' ? [i] : []));
    const q = qiniAucScore(rows.map((i) => y[i]), rows.map(() => random.next()), rows.map((i) => (labels[i] === 'A' ? 1 : 0)));
    expect(Math.abs(q)).toBeLessThan(0.1);
  });

  it('saves and loads every method exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-uplift-'));
    for (const [method, model] of models) {
      const path = join(dir, `${method}.affinity`);
      await model.save(path);
      const back = (await loadModel(path)) as UpliftModel;
      expect(back.method).toBe(method);
      expect(back.featureImportances).toEqual(model.featureImportances);
      expect(Array.from((await back.predict(test)).uplift)).toEqual(Array.from((await model.predict(test)).uplift));
    }
  });

  it('plans whom to target within a budget and at a cost', async () => {
    const model = models.get('uplift-forest')!;
    const plan = await targetingPlan(model, test, { budget: 1000, valuePerConversion: 10 });
    expect(plan.rows.length).toBeLessThanOrEqual(1000);
    const { uplift } = await model.predict(test);
    const gains = Array.from(plan.rows, (r) => Math.max(uplift[r * 2], uplift[r * 2 + 1]));
    for (let i = 1; i < gains.length; i++) expect(gains[i]).toBeLessThanOrEqual(gains[i - 1]);
    expect(plan.expectedIncrementalConversions).toBeCloseTo(gains.reduce((a, b) => a + b, 0), 6);
    // At a cost, contacts stop where one more no longer pays for itself.
    const costly = await targetingPlan(model, test, { costPerContact: 1.5, valuePerConversion: 10 });
    const last = Math.max(uplift[costly.rows.at(-1)! * 2], uplift[costly.rows.at(-1)! * 2 + 1]);
    expect(last * 10).toBeGreaterThan(1.5);
    expect(costly.expectedProfit).toBeCloseTo(Math.max(...costly.curve.profit), 6);
    expect(costly.arms.every((a) => a === 'A' || a === 'B')).toBe(true);
    await expect(targetingPlan(model, test, {})).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it('refuses bad input with a code', async () => {
    await expect(new UpliftModel().fit(train, { ...spec, control: 'nobody' })).rejects.toMatchObject({ message: expect.stringMatching(/control group/) });
    const allControl = FeatureTable.fromColumns({ age: [1, 2, 3], arm: ['c', 'c', 'c'], y: [0, 1, 0] });
    await expect(new UpliftModel().fit(allControl, { outcome: 'y', treatment: 'arm', control: 'c' })).rejects.toMatchObject({ message: expect.stringMatching(/no treatment arm/) });
    const gap = FeatureTable.fromColumns({ age: [1, 2, 3, 4], arm: ['c', 't', 'c', 't'], y: [0, 1, null, 0] });
    await expect(new UpliftModel().fit(gap, { outcome: 'y', treatment: 'arm', control: 'c' })).rejects.toMatchObject({ message: expect.stringMatching(/outcome of row 2/) });
    expect(() => new UpliftModel({ method: 'magic' as never })).toThrow(/method/);
    expect(() => new UpliftModel({ treatmentProbability: 1 })).toThrow(/treatmentProbability/);
    await expect(new UpliftModel().predict(test)).rejects.toMatchObject({ code: 'ERR_AFFINITY_NOT_FITTED' });
  });
});
