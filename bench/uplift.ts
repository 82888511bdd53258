// bench/uplift: campaign effect on the Hillstrom e-mail experiment (../shared/data/hillstrom-email).
//   1. A/B: visit and spend lifts of each e-mail against no e-mail (the published figures: visits +7.66
//      points for men's, +4.52 for women's).
//   2. Uplift on visits: a seeded 70/30 split (FeatureTable.split(0.7, 1)); each method trained on the 70%,
//      scored on the 30% per arm against the control: Qini coefficient and AUUC (scikit-uplift's
//      normalizations) and uplift@30% (overall), next to a random ranking (mean of 20 seeded shuffles).
//   3. A targeting plan on the 30%: an e-mail costs $0.10, a visit is worth $2 (about 30% margin on the
//      $7.16 the data's visitors spend on average), against mailing everyone their best arm.
// npm run bench:uplift
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { abTest, FeatureTable, qiniAucScore, targetingPlan, upliftAtK, upliftAucScore, UpliftModel, type UpliftMethod } from '../src/index.js';
import { Random } from '../src/core/random.js';

const FILE = fileURLToPath(new URL('../../shared/data/hillstrom-email/hillstrom.csv.gz', import.meta.url));
if (!existsSync(FILE)) {
  console.log(`skipped: ${FILE} is absent`);
  process.exit(0);
}
const f3 = (x: number) => x.toFixed(4);
const table = await FeatureTable.fromFile(FILE, { exclude: ['conversion', 'spend'] });
const segment = table.labels('segment') as string[];

console.log('## A/B: each e-mail against no e-mail (all 64,000 rows)');
for (const outcome of ['visit', 'spend']) {
  const r = abTest(Array.from(table.numbers(outcome)), segment, { control: 'No E-Mail', metric: outcome === 'visit' ? 'rate' : 'mean' });
  for (const arm of r.arms.filter((a) => a.group !== 'No E-Mail'))
    console.log(`${outcome} ${arm.group}: ${f3(arm.value)} vs control, lift ${(arm.lift! * (outcome === 'visit' ? 100 : 1)).toFixed(2)}${outcome === 'visit' ? ' points' : ' $'} (95% CI ${arm.liftCi!.map((v) => (v * (outcome === 'visit' ? 100 : 1)).toFixed(2)).join(' to ')}), p ${arm.pValue!.toExponential(2)}`);
}

const [train, test] = table.split(0.7, 1);
const spec = { outcome: 'visit', treatment: 'segment', control: 'No E-Mail' };
const y = test.numbers('visit');
const labels = test.labels('segment');
console.log(`\n## Uplift on visits: train ${train.rows}, test ${test.rows} (seed 1); 100 trees, depth 8, min leaf 50`);
console.log('| method | fit (s) | arm | Qini coefficient | AUUC | uplift@30% |\n|---|---|---|---|---|---|');
let best: UpliftModel | undefined;
for (const method of ['two-model', 'class-transformation', 'uplift-forest'] as UpliftMethod[]) {
  const started = performance.now();
  const model = await new UpliftModel({ method, seed: 1 }).fit(train, spec);
  const seconds = (performance.now() - started) / 1000;
  for (const r of await model.evaluate(test, spec)) console.log(`| ${method} | ${seconds.toFixed(2)} | ${r.arm} | ${f3(r.qini)} | ${f3(r.auuc)} | ${f3(r.upliftAt30)} |`);
  if (method === 'uplift-forest') best = model;
}
for (const arm of ['Mens E-Mail', 'Womens E-Mail']) {
  const rows = labels.flatMap((l, i) => (l === arm || l === 'No E-Mail' ? [i] : []));
  const yy = rows.map((i) => y[i]);
  const tt = rows.map((i) => (labels[i] === arm ? 1 : 0));
  const random = new Random(3);
  let q = 0, a = 0, u = 0;
  for (let rep = 0; rep < 20; rep++) {
    const score = rows.map(() => random.next());
    q += qiniAucScore(yy, score, tt) / 20;
    a += upliftAucScore(yy, score, tt) / 20;
    u += upliftAtK(yy, score, tt, 0.3) / 20;
  }
  console.log(`| random ranking | | ${arm} | ${f3(q)} | ${f3(a)} | ${f3(u)} |`);
}

console.log('\n## Targeting plan on the test rows: $0.10 per e-mail, $2 per extra visit (uplift forest)');
const plan = await targetingPlan(best!, test, { costPerContact: 0.1, valuePerConversion: 2 });
const everyone = plan.curve.profit[test.rows];
console.log(`contact ${plan.rows.length} of ${test.rows} (${plan.arms.filter((a) => a === 'Mens E-Mail').length} men's, ${plan.arms.filter((a) => a === 'Womens E-Mail').length} women's): expected +${plan.expectedIncrementalConversions.toFixed(0)} visits, profit $${plan.expectedProfit.toFixed(0)}; mailing everyone their best arm: $${everyone.toFixed(0)}`);
