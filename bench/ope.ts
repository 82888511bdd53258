// bench/ope: off-policy evaluation on the Open Bandit Dataset, "Men" campaign (../shared/data/open-bandit-men).
//   Estimate the uniform-random policy's click rate (1/34 for every item at every position) from the
//   Bernoulli-Thompson-sampling logs, and compare with the click rate measured in the random logs. DM and
//   DR use a plain reward model: each item's click rate in the BTS logs (smoothed towards the overall rate).
//   Intervals: 1000 seeded bootstrap resamples. Then a contextual policy learned from half of the random
//   logs, evaluated off-policy on the other half and on the BTS logs, against both logged policies.
// npm run bench:ope
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bandit, FeatureTable, fitRewardModel, offPolicyValue, type OpeEstimator } from '../src/index.js';

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

// Contextual policies learned from the uniform-random logs, evaluated off-policy. The random logs are split
// in time: the first half trains a ridge model per item (LinUCB's state, learned offline: uniform logs teach
// every item without bias), the second half evaluates the greedy policy it implies (LinUCB with alpha 0),
// and the BTS logs evaluate it again under another logging policy. Contexts: a bias and the one-hot user
// features (3 + 5 + 9 + 8 values).
const userColumns = ['user_feature_0', 'user_feature_1', 'user_feature_2', 'user_feature_3'];
const withUsers = ['item_id', 'click', 'propensity_score', ...userColumns];
const randomRows = await FeatureTable.fromFile(`${dir}random/men.csv.gz`, { columns: withUsers, categorical: userColumns });
const btsRows = await FeatureTable.fromFile(`${dir}bts/men.csv.gz`, { columns: withUsers, categorical: userColumns });
const levels = userColumns.map((c) => [...new Set([...randomRows.labels(c), ...btsRows.labels(c)].map(String))].sort());
const dims = 1 + levels.reduce((s, l) => s + l.length, 0);
function contextsOf(t: FeatureTable): Float64Array {
  const x = new Float64Array(t.rows * dims);
  const cols = userColumns.map((c) => t.labels(c).map(String));
  for (let r = 0; r < t.rows; r++) {
    x[r * dims] = 1;
    let at = 1;
    cols.forEach((col, c) => {
      x[r * dims + at + levels[c].indexOf(col[r])] = 1;
      at += levels[c].length;
    });
  }
  return x;
}
const half = Math.floor(random.rows / 2);
const randomContexts = contextsOf(randomRows);
const randomActions = Int32Array.from(randomRows.numbers('item_id'));
const randomClicks = randomRows.numbers('click');
// Greedy on the ridge means (LinUCB with alpha 0), and linear Thompson sampling on the same posterior (its
// probabilities per row estimated from 200 draws).
const policies = [new Bandit({ policy: 'linucb', arms, dims, alpha: 0, seed: 1 }), new Bandit({ policy: 'lin-thompson', arms, dims, scale: 0.05, seed: 1 })];
for (const learned of policies) for (let r = 0; r < half; r++) learned.update(randomActions[r], randomClicks[r], randomContexts.subarray(r * dims, (r + 1) * dims));
const slice = (from: number, to: number) => ({
  actions: randomActions.subarray(from, to),
  rewards: randomClicks.subarray(from, to),
  propensities: randomRows.numbers('propensity_score').subarray(from, to),
  contexts: { values: randomContexts.subarray(from * dims, to * dims), rows: to - from, dims },
});
const heldOut = slice(half, random.rows);
const btsLogs = { actions, rewards, propensities, contexts: { values: contextsOf(btsRows), rows: bts.rows, dims } };
const clickRate = (r: ArrayLike<number>) => Array.from(r).reduce((a, b) => a + b, 0) / r.length;
console.log(`\n# Policies learned from the first ${half} random impressions (${clickRate(randomClicks.subarray(0, half)) * half} clicks), ${dims} context features`);
console.log(`logged policies: uniform random ${clickRate(heldOut.rewards).toFixed(4)} on the held-out random half; BTS ${onPolicy.toFixed(4)} on its own logs`);
console.log('| policy | logs | estimator | estimate | 95% bootstrap CI | effective sample size |\n|---|---|---|---|---|---|');
for (const learned of policies)
  for (const [name, logs] of [['random, held-out half', heldOut], ['bts', btsLogs]] as const) {
    const q = await fitRewardModel(logs, { arms, model: 'mean' });
    for (const estimator of ['ips', 'snips', 'dr'] as OpeEstimator[]) {
      const r = await offPolicyValue(logs, learned, { arms, estimator, rewardModel: q, bootstrap: 1000, seed: 1, samples: 200 });
      console.log(`| ${learned.policy === 'linucb' ? 'greedy ridge' : 'lin-thompson'} | ${name} | ${estimator} | ${r.value.toFixed(4)} | ${r.ci.map((v) => v.toFixed(4)).join(' to ')} | ${r.effectiveSampleSize.toFixed(0)} |`);
    }
  }
