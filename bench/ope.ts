// bench/ope: off-policy evaluation on the Open Bandit Dataset, "Men" campaign (../shared/data/open-bandit-men).
//   Estimate the uniform-random policy's click rate (1/34 for every item at every position) from the
//   Bernoulli-Thompson-sampling logs, and compare with the click rate measured in the random logs. DM and
//   DR use a plain reward model: each item's click rate in the BTS logs (smoothed towards the overall rate).
//   Intervals: 1000 seeded bootstrap resamples.
// npm run bench:ope
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FeatureTable, offPolicyValue, type OpeEstimator } from '../src/index.js';

const dir = fileURLToPath(new URL('../../shared/data/open-bandit-men/', import.meta.url));
if (!existsSync(dir)) {
  console.log(`skipped: ${dir} is absent`);
  process.exit(0);
}
const columns = ['item_id', 'position', 'click', 'propensity_score'];
const bts = await FeatureTable.fromFile(`${dir}bts/men.csv.gz`, { columns });
const random = await FeatureTable.fromFile(`${dir}random/men.csv.gz`, { columns });
const arms = 34;
const actions = Int32Array.from(bts.numbers('item_id'));
const rewards = bts.numbers('click');
const propensities = bts.numbers('propensity_score');
const truth = random.numbers('click').reduce((a, b) => a + b, 0) / random.rows;
const onPolicy = rewards.reduce((a, b) => a + b, 0) / bts.rows;

const clicks = new Float64Array(arms), shows = new Float64Array(arms);
actions.forEach((a, i) => ((clicks[a] += rewards[i]), (shows[a] += 1)));
const prior = 20; // pseudo-impressions at the overall rate
const itemRate = Float64Array.from(clicks, (c, a) => (c + prior * onPolicy) / (shows[a] + prior));
const rewardModel = new Float64Array(bts.rows * arms);
for (let i = 0; i < bts.rows; i++) rewardModel.set(itemRate, i * arms);
const uniform = { probabilities: new Float64Array(bts.rows * arms).fill(1 / arms) };

console.log(`# Open Bandit "Men": ${bts.rows} BTS impressions (on-policy click rate ${onPolicy.toFixed(4)}); truth = the random logs' click rate ${truth.toFixed(4)} over ${random.rows}`);
console.log('| estimator | estimate | 95% bootstrap CI | covers the truth | relative error | effective sample size | ms |\n|---|---|---|---|---|---|---|');
for (const estimator of ['ips', 'snips', 'dm', 'dr', 'switch-dr'] as OpeEstimator[]) {
  const started = performance.now();
  const r = await offPolicyValue({ actions, rewards, propensities }, uniform, { arms, estimator, rewardModel, bootstrap: 1000, seed: 1 });
  const ms = performance.now() - started;
  console.log(`| ${estimator} | ${r.value.toFixed(4)} | ${r.ci.map((v) => v.toFixed(4)).join(' to ')} | ${r.ci[0] <= truth && truth <= r.ci[1] ? 'yes' : 'no'} | ${((r.value - truth) / truth * 100).toFixed(1)}% | ${r.effectiveSampleSize.toFixed(0)} | ${ms.toFixed(0)} |`);
}
