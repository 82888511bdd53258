// The chart data shaping (src/insights) against plain references on random inputs, and the samples that
// models keep in their metadata for the charts.
import { describe, expect, it } from 'vitest';
import { bucketQuantile, histogram, prCurve, rateWithInterval, rocCurve, thin, trapezoidArea } from '../src/insights/curves.js';
import { classificationMetrics } from '../src/analytics/logistic.js';
import { principalAxes, projectionOf, segmentCustomers, Segmentation } from '../src/analytics/segments.js';
import { segmentsView } from '../src/insights/segments.js';
import { loadModel } from '../src/files/models.js';
import { demoShop } from '../src/data/synthetic.js';
import type { Id } from '../src/data/ids.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdoutGroups } from '../src/insights/lifetime.js';
import { latencyBy } from '../src/insights/traffic.js';
import { BUCKETS, Metrics } from '../src/server/metrics.js';
import { sampleRows } from '../src/models/contract.js';
import { Random } from '../src/core/random.js';

const random = new Random(5);
const scoresAndLabels = (n: number) => {
  const label: number[] = Array.from({ length: n }, () => (random.next() < 0.3 ? 1 : 0));
  // Rounded, so that ties occur and the curves must treat them as one threshold.
  const score = label.map((y) => Math.round((random.next() + 0.4 * y) * 20) / 20);
  return { score, label };
};

describe('ranking curves', () => {
  it('the ROC curve runs from (0,0) to (1,1) and its area is the rank AUC', () => {
    for (let trial = 0; trial < 5; trial++) {
      const { score, label } = scoresAndLabels(300 + trial * 50);
      const roc = rocCurve(score, label);
      expect([roc.x[0], roc.y[0], roc.x.at(-1), roc.y.at(-1)]).toEqual([0, 0, 1, 1]);
      expect(trapezoidArea(roc)).toBeCloseTo(classificationMetrics(label, score).rocAuc, 10);
    }
  });

  it('each PR point is precision and recall at that threshold, by brute force', () => {
    const { score, label } = scoresAndLabels(200);
    const pr = prCurve(score, label);
    const thresholds = [...new Set(score)].sort((a, b) => b - a);
    expect(pr.x.length).toBe(thresholds.length);
    const positives = label.reduce((a: number, b) => a + b, 0);
    thresholds.forEach((t, i) => {
      const chosen = score.map((s, j) => [s, label[j]]).filter(([s]) => s >= t);
      const tp = chosen.filter(([, y]) => y === 1).length;
      expect(pr.x[i]).toBeCloseTo(tp / positives, 12);
      expect(pr.y[i]).toBeCloseTo(tp / chosen.length, 12);
    });
  });
});

describe('histograms and quantiles', () => {
  it('a histogram counts every finite value once, in the bin that holds it', () => {
    const values = Array.from({ length: 1000 }, () => random.next() * 50 - 10).concat([NaN, Infinity]);
    const bins = histogram(values, 13);
    expect(bins).toHaveLength(13);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(1000);
    for (const b of bins) expect(b.count).toBe(values.filter((v) => Number.isFinite(v) && v >= b.lower && (v < b.upper || (b === bins.at(-1) && v === b.upper))).length);
    expect(histogram([])).toEqual([]);
    expect(histogram([2, 2, 2])).toEqual([{ lower: 2, upper: 2, count: 3 }]);
  });

  it('a bucket quantile interpolates inside the bucket the rank falls in', () => {
    const bounds = [0.001, 0.01, 0.1, 1];
    expect(bucketQuantile(bounds, [0, 0, 0, 0], 0.5)).toBeNaN();
    // 10 observations in (0.01, 0.1]: the median is halfway through that bucket.
    expect(bucketQuantile(bounds, [0, 0, 10, 0], 0.5)).toBeCloseTo(0.055, 12);
    // 90 fast, 10 slow: p50 in the first bucket, p99 nine tenths into the last.
    expect(bucketQuantile(bounds, [90, 0, 0, 10], 0.5)).toBeCloseTo(0.001 * (50 / 90), 12);
    expect(bucketQuantile(bounds, [90, 0, 0, 10], 0.99)).toBeCloseTo(0.1 + 0.9 * 0.9, 12);
  });

  it('rates carry Wilson intervals for 0/1 outcomes and normal ones otherwise', () => {
    const binary = rateWithInterval([1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(binary.rate).toBe(0.2);
    expect(binary.ci[0]).toBeGreaterThan(0);
    expect(binary.ci[0]).toBeLessThan(0.2);
    expect(binary.ci[1]).toBeCloseTo(0.5098, 3); // Wilson's upper bound for 2 of 10
    const amounts = rateWithInterval([10, 12, 8, 10]);
    expect(amounts.rate).toBe(10);
    expect((amounts.ci[1] - amounts.ci[0]) / 2).toBeCloseTo((1.959963984540054 * Math.sqrt(8 / 3)) / 2, 10);
  });

  it('thinning keeps the ends and at most the points asked for', () => {
    const x = Array.from({ length: 1001 }, (_, i) => i);
    const t = thin({ x, y: x.map((v) => v * 2) }, 50);
    expect(t.x).toHaveLength(50);
    expect([t.x[0], t.x.at(-1)]).toEqual([0, 1000]);
    expect(t.y.every((y, i) => y === t.x[i] * 2)).toBe(true);
    expect(sampleRows(10, 20)).toHaveLength(10);
    expect(new Set(sampleRows(100_000)).size).toBe(2000);
  });
});

describe('segment projection', () => {
  it('the principal axes are the covariance eigenvectors, largest first', () => {
    // Points stretched along (1, 1)/√2 with variance 9, and along (1, -1)/√2 with variance 1.
    const n = 4000;
    const values = new Float32Array(n * 2);
    for (let r = 0; r < n; r++) {
      const a = (random.next() - 0.5) * Math.sqrt(12) * 3;
      const b = (random.next() - 0.5) * Math.sqrt(12);
      values[r * 2] = (a + b) / Math.SQRT2;
      values[r * 2 + 1] = (a - b) / Math.SQRT2;
    }
    const { vectors, explained } = principalAxes({ values, rows: n, dims: 2 }, 2);
    expect(Math.abs(vectors[0][0])).toBeCloseTo(Math.SQRT1_2, 1);
    expect(vectors[0][0] * vectors[0][1]).toBeGreaterThan(0);
    expect(vectors[1][0] * vectors[1][1]).toBeLessThan(0);
    expect(explained[0]).toBeGreaterThan(0.85);
    expect(explained[0] + explained[1]).toBeCloseTo(1, 6);
    const p = projectionOf({ values, rows: n, dims: 2 }, new Int32Array(n).fill(1));
    expect(p.x).toHaveLength(2000);
    expect(p.segment.every((s) => s === 1)).toBe(true);
  });
});

describe('erasure and the segment projection', () => {
  it("takes the erased customers' points out, keeps everyone else's, and does it again after a save and load", async () => {
    const shop = await demoShop(7, 3000, 20_000);
    const model = await segmentCustomers(shop.transactions, { k: 3 });
    const p = model.metadata!.projection!;
    expect(p.rows).toEqual(sampleRows(model.customers.size));
    const pointOf = (m: Segmentation, id: Id) => {
      const q = m.metadata!.projection!;
      if (!m.customers.has(id)) return undefined;
      const i = q.rows!.indexOf(m.customers.indexOf(id));
      return i < 0 ? undefined : [q.x[i], q.y[i], q.segment[i]];
    };
    const ids = model.customers.ids;
    // Three customers with points and one without (the sample keeps 2,000 of about 3,000 rows).
    const sampled = new Set(p.rows);
    const withPoints = [p.rows![5], p.rows![700], p.rows![1999]].map((r) => ids[r]);
    const without = ids[[...ids.keys()].find((r) => !sampled.has(r))!];
    const erased = await model.withoutCustomers([...withPoints, without]);
    const q = erased.metadata!.projection!;
    expect(q.x).toHaveLength(p.x.length - 3);
    for (const id of withPoints) expect(pointOf(erased, id)).toBeUndefined();
    for (const r of [0, 6, 699, 1998]) expect(pointOf(erased, ids[p.rows![r]])).toEqual([p.x[r], p.y[r], p.segment[r]]);
    // Twice: the renumbered rows still point at the right customers.
    const dir = await mkdtemp(join(tmpdir(), 'affinity-projection-'));
    await erased.save(join(dir, 's.affinity'));
    const loaded = (await loadModel(join(dir, 's.affinity'))) as Segmentation;
    const again = await loaded.withoutCustomers([ids[p.rows![6]]]);
    expect(again.metadata!.projection!.x).toHaveLength(p.x.length - 4);
    expect(pointOf(again, ids[p.rows![6]])).toBeUndefined();
    expect(pointOf(again, ids[p.rows![1998]])).toEqual([p.x[1998], p.y[1998], p.segment[1998]]);
    expect(segmentsView(again).projection).not.toHaveProperty('rows');
  });
});

describe('lifetime holdout groups', () => {
  it('average predicted and actual purchases per calibration frequency, the top group open-ended', () => {
    const groups = holdoutGroups([0, 0, 1, 9, 12], [0.1, 0.3, 1, 4, 6], [0, 1, 2, 3, 7], 7);
    expect(groups).toEqual([
      { frequency: 0, customers: 2, predicted: 0.2, actual: 0.5 },
      { frequency: 1, customers: 1, predicted: 1, actual: 2 },
      { frequency: 7, customers: 2, predicted: 5, actual: 5 },
    ]);
  });
});

describe('live traffic', () => {
  it('merges the histograms by route: counts, 5xx errors, and quantiles within a bucket of the exact ones', () => {
    const metrics = new Metrics();
    const samples = new Map<string, number[]>();
    for (let i = 0; i < 3000; i++) {
      const route = ['/v1/recommend', '/v1/score', '/health/ready'][i % 3];
      const seconds = Math.exp(-7 + random.next() * 6) * (route === '/v1/score' ? 3 : 1);
      const status = i % 50 === 0 ? '503' : i % 7 === 0 ? '404' : '200';
      metrics.http.observe({ route, method: 'POST', status }, seconds);
      samples.set(route, [...(samples.get(route) ?? []), seconds]);
    }
    const rows = latencyBy(metrics.http.snapshot(), BUCKETS, 'route');
    expect(rows.map((r) => r.count)).toEqual([1000, 1000, 1000]);
    expect(rows.reduce((a, r) => a + r.errors, 0)).toBe(60);
    const bucketOf = (v: number) => BUCKETS.findIndex((b) => v <= b);
    for (const row of rows) {
      const sorted = samples.get(row.key)!.sort((a, b) => a - b);
      for (const [q, got] of [[0.5, row.p50], [0.99, row.p99]] as const) {
        const exact = sorted[Math.ceil(q * sorted.length) - 1];
        // The estimate lies in the exact quantile's bucket (or at its edge).
        expect(Math.abs(bucketOf(got!) - bucketOf(exact))).toBeLessThanOrEqual(1);
      }
      expect(row.seconds).toBeCloseTo(sorted.reduce((a, b) => a + b, 0), 9);
    }
    expect(latencyBy([], BUCKETS, 'route')).toEqual([]);
  });
});
