// bench/clv: lifetime-value models.
//   1. Speed: BG/NBD fitted on 1,000,000 customers simulated from known parameters (threads 1 and 2), and
//      P(alive) and conditional expected purchases for all of them; the CDNOW sample's fit for scale.
//   2. Quality on UCI Online Retail: calibrated up to a cutoff, the repeat purchases of each customer in the
//      next 90 and 180 days predicted by BG/NBD and Pareto/NBD against what happened: aggregate, per decile
//      of prediction, and the mean absolute error per customer against the naive "same rate as before"
//      forecast; and how P(alive) ranks the churned customers against the churn model on the same customers.
//   npm run bench:clv -- [--customers 1000000] [--no-retail]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BetaGeo, ParetoNBD, capabilities, churnDataset, classificationMetrics, LogisticRegression, rfmSummary, setThreads, type Transactions } from '../src/index.js';
import { Random } from '../src/core/random.js';
import { loadRetail } from './retail.js';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '1000000' }, 'no-retail': { type: 'boolean' } } });
const RETAIL = fileURLToPath(new URL('../../shared/data/uci-online-retail/online_retail.csv.gz', import.meta.url));
const CDNOW = fileURLToPath(new URL('../../shared/data/cdnow/cdnow_customers_summary.csv', import.meta.url));
const DAY = 86_400;

/** Gamma(shape, rate) by Marsaglia-Tsang (with the shape < 1 boost). */
function gamma(rng: Random, shape: number, rate: number): number {
  if (shape < 1) return gamma(rng, shape + 1, rate) * Math.pow(rng.next(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x, v;
    do {
      const u1 = rng.next(), u2 = rng.next();
      x = Math.sqrt(-2 * Math.log(u1 || 1e-300)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (Math.log(u || 1e-300) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

function simulateBetaGeo(n: number, p: { r: number; alpha: number; a: number; b: number }, seed: number) {
  const rng = new Random(seed);
  const frequency = new Float64Array(n), recency = new Float64Array(n), T = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const age = 20 + 20 * rng.next();
    const lambda = gamma(rng, p.r, p.alpha);
    const ga = gamma(rng, p.a, 1), gb = gamma(rng, p.b, 1);
    const dropout = ga / (ga + gb);
    let t = 0, last = 0, x = 0;
    for (;;) {
      t += -Math.log(rng.next() || 1e-300) / lambda;
      if (t > age) break;
      x++, (last = t);
      if (rng.next() < dropout) break;
    }
    frequency[c] = x;
    recency[c] = last;
    T[c] = age;
  }
  return { frequency, recency, T };
}

async function speed(): Promise<void> {
  const n = Number(values.customers);
  const truth = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  const data = simulateBetaGeo(n, truth, 1);
  console.log(`## BG/NBD on ${n.toLocaleString('en')} simulated customers (r ${truth.r}, α ${truth.alpha}, a ${truth.a}, b ${truth.b})`);
  console.log('| threads | fit (s) | iterations | r | α | a | b | P(alive), all (s) | E[purchases in 52], all (s) |\n|---|---|---|---|---|---|---|---|---|');
  const capabilitiesThreads = capabilities().threads;
  for (const threads of [1, 2]) {
    setThreads(threads);
    let t = performance.now();
    const bg = await new BetaGeo().fit(data);
    const fit = (performance.now() - t) / 1000;
    t = performance.now();
    await bg.probabilityAlive(data);
    const alive = (performance.now() - t) / 1000;
    t = performance.now();
    await bg.conditionalExpectedPurchases(data, 52);
    const expected = (performance.now() - t) / 1000;
    const p = bg.params;
    console.log(`| ${threads} | ${fit.toFixed(3)} | ${bg.report!.iterations} | ${p.r.toFixed(3)} | ${p.alpha.toFixed(3)} | ${p.a.toFixed(3)} | ${p.b.toFixed(3)} | ${alive.toFixed(3)} | ${expected.toFixed(3)} |`);
  }
  setThreads(capabilitiesThreads);
  if (existsSync(CDNOW)) {
    const rows = readFileSync(CDNOW, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const cd = { frequency: rows.map((r) => r[1]), recency: rows.map((r) => r[2]), T: rows.map((r) => r[3]) };
    const runs = 20;
    let t = performance.now();
    for (let i = 0; i < runs; i++) await new BetaGeo().fit(cd);
    const bgMs = (performance.now() - t) / runs;
    t = performance.now();
    for (let i = 0; i < runs; i++) await new ParetoNBD().fit(cd);
    const pnMs = (performance.now() - t) / runs;
    console.log(`\nCDNOW sample (${rows.length} customers): BG/NBD fit ${bgMs.toFixed(1)} ms, Pareto/NBD ${pnMs.toFixed(1)} ms (mean of ${runs}; lifetimes: about 1 s with SciPy)`);
  }
}

async function holdout(tx: Transactions, end: number, horizonDays: number): Promise<void> {
  const cutoff = end - horizonDays * DAY;
  const s = rfmSummary(tx, { calibrationEnd: cutoff, observationEnd: end, unit: 'weeks' });
  const actual = s.holdoutFrequency!;
  const weeks = horizonDays / 7;
  console.log(`\n## Repeat purchases in the ${horizonDays} days after the cutoff (${s.customers.length} customers calibrated before it)`);
  // Naive: each customer keeps the rate of repeat purchases they had since their first one.
  const naive = Float64Array.from(s.frequency, (x, i) => (s.T[i] > 0 ? (x / s.T[i]) * weeks : 0));
  const rows: [string, Float64Array][] = [['naive (same rate as before)', naive]];
  for (const model of [new BetaGeo({ penalizer: 0.001 }), new ParetoNBD({ penalizer: 0.001 })]) {
    await model.fit(s);
    rows.push([`${model.kind} (${Object.entries(model.params).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')})`, await model.conditionalExpectedPurchases(s, weeks)]);
  }
  const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const mae = (a: Float64Array) => a.reduce((m, v, i) => m + Math.abs(v - actual[i]), 0) / a.length;
  console.log(`actual repeat purchases: ${total(actual).toFixed(0)}`);
  console.log('| forecast | predicted total | MAE per customer |\n|---|---|---|');
  for (const [name, p] of rows) console.log(`| ${name} | ${total(p).toFixed(0)} | ${mae(p).toFixed(3)} |`);
  const bg = rows[1][1];
  const order = Array.from(bg.keys()).sort((a, b) => bg[a] - bg[b]);
  console.log('per decile of the BG/NBD forecast (predicted / actual mean): ' + Array.from({ length: 10 }, (_, d) => {
    const part = order.slice(Math.floor((d * order.length) / 10), Math.floor(((d + 1) * order.length) / 10));
    const mean = (a: Float64Array) => part.reduce((m, i) => m + a[i], 0) / part.length;
    return `${mean(bg).toFixed(2)}/${mean(actual).toFixed(2)}`;
  }).join(', '));
}

async function aliveVersusChurn(tx: Transactions, end: number): Promise<void> {
  const horizonDays = 90;
  const cutoff = end - horizonDays * DAY;
  const s = rfmSummary(tx, { calibrationEnd: cutoff, observationEnd: end, unit: 'weeks' });
  const bg = await new BetaGeo({ penalizer: 0.001 }).fit(s);
  const alive = await bg.probabilityAlive(s);
  const train = churnDataset(tx, { cutoff: cutoff - horizonDays * DAY, horizonDays });
  const test = churnDataset(tx, { cutoff, horizonDays });
  const model = await new LogisticRegression({ l2: 1e-3, classWeight: 'balanced', featureNames: train.featureNames }).fit(train.features, train.labels);
  const churnP = model.predictProba(test.features);
  // On the customers both know: churned = no purchase in the 90 days after the cutoff.
  const rowOf = new Map(s.customers.map((c, i) => [c, i]));
  const labels: number[] = [], byAlive: number[] = [], byChurn: number[] = [];
  test.customers.ids.forEach((c, r) => {
    const i = rowOf.get(c);
    if (i === undefined) return;
    labels.push(test.labels[r]);
    byAlive.push(1 - alive[i]);
    byChurn.push(churnP[r]);
  });
  const a = classificationMetrics(Uint8Array.from(labels), Float64Array.from(byAlive));
  const c = classificationMetrics(Uint8Array.from(labels), Float64Array.from(byChurn));
  console.log(`\n## P(alive) against the churn model, ${labels.length} customers, churn = no purchase in the next 90 days`);
  console.log(`ROC AUC: 1 - P(alive) ${a.rocAuc.toFixed(3)}, churn model ${c.rocAuc.toFixed(3)}; PR AUC ${a.prAuc.toFixed(3)} / ${c.prAuc.toFixed(3)}`);
}

await speed();
if (!values['no-retail']) {
  if (!existsSync(RETAIL)) console.log(`\n(retail quality skipped: ${RETAIL} is absent)`);
  else {
    const { tx } = await loadRetail(RETAIL);
    const end = tx.timeRange[1];
    await holdout(tx, end, 90);
    await holdout(tx, end, 180);
    await aliveVersusChurn(tx, end);
  }
}
