// Off-policy evaluation: a hand-computed case, unbiasedness over seeded simulated logs (and a biased
// reward model that the direct method cannot see past), interval coverage, bad input.
import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { Bandit, CouponSimulator, fitRewardModel, offPolicyValue, type OpeEstimator } from '../src/index.js';

describe('offPolicyValue', () => {
  it('matches a hand-computed case', async () => {
    const logs = { actions: [0, 1, 1], rewards: [1, 0, 1], propensities: [0.5, 0.25, 0.5] };
    const policy = { probabilities: [1, 0, 0.5, 0.5, 0, 1] }; // rows x 2 arms
    // w = [2, 2, 2]: IPS (2 + 0 + 2) / 3; SNIPS 4 / 6.
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'ips', bootstrap: 0 })).value).toBeCloseTo(4 / 3, 12);
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'snips', bootstrap: 0 })).value).toBeCloseTo(4 / 6, 12);
    const q = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    // DM 0.5 per row; DR adds w (r - 0.5): +1, -1, +1.
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'dm', rewardModel: q, bootstrap: 0 })).value).toBeCloseTo(0.5, 12);
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'dr', rewardModel: q, bootstrap: 0 })).value).toBeCloseTo(0.5 + 1 / 3, 12);
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'switch-dr', rewardModel: q, tau: 1, bootstrap: 0 })).value).toBeCloseTo(0.5, 12);
    expect((await offPolicyValue(logs, policy, { arms: 2, estimator: 'ips', clip: 1, bootstrap: 0 })).value).toBeCloseTo(2 / 3, 12);
    expect((await offPolicyValue(logs, policy, { arms: 2, bootstrap: 0 })).effectiveSampleSize).toBeCloseTo(3, 12);
  });

  // Five arms; the logging policy and the target each a seeded per-row distribution; Bernoulli rewards.
  function simulate(seed: number, n: number) {
    const random = new Random(seed);
    const arms = 5;
    const actions = new Int32Array(n), rewards = new Float64Array(n), propensities = new Float64Array(n);
    const target = new Float64Array(n * arms), model = new Float64Array(n * arms);
    let truth = 0;
    for (let i = 0; i < n; i++) {
      const x = random.next();
      const p = Array.from({ length: arms }, (_, a) => 0.05 + 0.3 * Math.abs(Math.sin(3 * x + a)));
      const mu = Array.from({ length: arms }, (_, a) => 1 + a * x);
      const pi = Array.from({ length: arms }, (_, a) => Math.exp(4 * p[a]) * (a === 0 ? 0.2 : 1));
      const sm = mu.reduce((s, v) => s + v, 0), sp = pi.reduce((s, v) => s + v, 0);
      let u = random.next() * sm, a = 0;
      while (u > mu[a] && a < arms - 1) u -= mu[a++];
      actions[i] = a;
      propensities[i] = mu[a] / sm;
      rewards[i] = random.next() < p[a] ? 1 : 0;
      for (let b = 0; b < arms; b++) {
        target[i * arms + b] = pi[b] / sp;
        truth += (pi[b] / sp) * p[b];
        model[i * arms + b] = p[b] * 0.7 + 0.05; // a biased reward model
      }
    }
    return { logs: { actions, rewards, propensities }, target, model, truth: truth / n, arms };
  }

  it('ips, snips and dr are unbiased over seeded logs; dm inherits its model bias', async () => {
    const seeds = 150;
    const estimates = new Map<OpeEstimator, number[]>();
    let truth = 0;
    for (let s = 0; s < seeds; s++) {
      const sim = simulate(s + 1, 1000);
      truth += sim.truth / seeds;
      for (const estimator of ['ips', 'snips', 'dr', 'dm'] as OpeEstimator[]) {
        const r = await offPolicyValue(sim.logs, { probabilities: sim.target }, { arms: sim.arms, estimator, rewardModel: sim.model, bootstrap: 0 });
        estimates.set(estimator, [...(estimates.get(estimator) ?? []), r.value]);
      }
    }
    const stats = (v: number[]) => {
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
      return { mean, se: sd / Math.sqrt(v.length) };
    };
    for (const e of ['ips', 'snips', 'dr'] as OpeEstimator[]) {
      const { mean, se } = stats(estimates.get(e)!);
      expect(Math.abs(mean - truth), `${e}: ${mean} against ${truth} (se ${se})`).toBeLessThan(3 * se + 1e-3);
    }
    const dm = stats(estimates.get('dm')!);
    expect(Math.abs(dm.mean - truth)).toBeGreaterThan(10 * dm.se);
    // DR's spread is below IPS's: the model soaks up reward noise.
    const spread = (e: OpeEstimator) => stats(estimates.get(e)!).se;
    expect(spread('dr')).toBeLessThan(spread('ips'));
  });

  it('bootstrap intervals cover the truth at about their nominal rate', async () => {
    let covered = 0;
    const trials = 60;
    for (let s = 0; s < trials; s++) {
      const sim = simulate(500 + s, 800);
      const r = await offPolicyValue(sim.logs, { probabilities: sim.target }, { arms: sim.arms, estimator: 'dr', rewardModel: sim.model, bootstrap: 300, seed: s });
      if (r.ci[0] <= sim.truth && sim.truth <= r.ci[1]) covered++;
    }
    // 95% nominal; within binomial error of 60 trials (and the truth here is conditional on the contexts).
    expect(covered / trials).toBeGreaterThan(0.85);
  });

  it('refuses bad logs and policies with a code', async () => {
    const logs = { actions: [0, 1], rewards: [1, 0], propensities: [0.5, 0.5] };
    const uniform = { probabilities: [0.5, 0.5, 0.5, 0.5] };
    await expect(offPolicyValue(logs, uniform, { arms: 2, estimator: 'dr' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
    await expect(offPolicyValue({ ...logs, positions: [0, 3] }, uniform, { arms: 2, positions: 2 })).rejects.toThrow(/position 1 is 3/);
    await expect(offPolicyValue({ ...logs, contexts: { values: new Float64Array(3), rows: 2, dims: 2 } }, uniform, { arms: 2 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
    await expect(offPolicyValue(logs, new Bandit({ policy: 'linucb', arms: 2, dims: 3 }), { arms: 2 })).rejects.toThrow(/contexts/);
    await expect(offPolicyValue({ ...logs, propensities: [0, 0.5] }, uniform, { arms: 2 })).rejects.toThrow(/propensity 0/);
    await expect(offPolicyValue({ ...logs, actions: [0, 2] }, uniform, { arms: 2 })).rejects.toThrow(/action 1 is 2/);
    await expect(offPolicyValue(logs, { probabilities: [0.5, 0.5] }, { arms: 2 })).rejects.toThrow(/rows x arms/);
    await expect(offPolicyValue(logs, () => [2, 0], { arms: 2 })).rejects.toThrow(/probability of arm 0/);
    await expect(offPolicyValue(logs, uniform, { arms: 2, estimator: 'magic' as never })).rejects.toThrow(/estimator/);
    await expect(offPolicyValue({ actions: [], rewards: [], propensities: [] }, uniform, { arms: 2 })).rejects.toThrow(/no rows/);
    expect((await offPolicyValue(logs, (_, row) => (row === 0 ? [1, 0] : [0, 1]), { arms: 2, estimator: 'ips', bootstrap: 0 })).value).toBe(1);
  });

  // Logs of a uniform-random coupon policy on the simulator, with contexts; the truth of a target policy
  // is its expected reward under the simulator's known response probabilities.
  function couponLogs(seed: number, n: number) {
    const sim = new CouponSimulator({ seed, segments: 3, noiseFeatures: 1 });
    const k = sim.offers.length;
    const customers = Array.from({ length: n }, () => sim.customer());
    const actions = new Int32Array(n), rewards = new Float64Array(n), propensities = new Float64Array(n).fill(1 / k);
    const values = new Float64Array(n * sim.dims);
    const random = new Random(seed);
    customers.forEach((c, i) => {
      values.set(c.context, i * sim.dims);
      actions[i] = random.int(k);
      rewards[i] = sim.respond({ ...c }, actions[i]);
    });
    return { sim, customers, logs: { actions, rewards, propensities, contexts: { values, rows: n, dims: sim.dims } } };
  }

  it('evaluates a Bandit and a function of the context on logged contexts; DR with a fitted reward model', async () => {
    const { sim, customers, logs } = couponLogs(3, 20_000);
    const k = sim.offers.length;
    // A policy trained elsewhere, evaluated frozen.
    const bandit = new Bandit({ policy: 'lin-thompson', arms: sim.offers, dims: sim.dims, scale: 0.3, seed: 5 });
    const trainer = new CouponSimulator({ seed: 3, segments: 3, noiseFeatures: 1 });
    for (let t = 0; t < 3000; t++) {
      const c = trainer.customer();
      const { arm } = bandit.decide(c.context)!;
      bandit.update(arm, trainer.respond(c, sim.offers.indexOf(arm as string)), c.context);
    }
    const target = await bandit.probabilitiesFor(logs.contexts.values, logs.actions.length, { seed: 1, samples: 400 });
    let truth = 0;
    customers.forEach((c, i) => {
      for (let a = 0; a < k; a++) truth += (target[i * k + a] * sim.expectedReward(c, a)) / customers.length;
    });
    const ips = await offPolicyValue(logs, bandit, { arms: k, estimator: 'ips', seed: 1, samples: 400 });
    expect(ips.ci[0]).toBeLessThan(truth);
    expect(ips.ci[1]).toBeGreaterThan(truth);
    // The same policy as a function of the context gives the same estimate.
    const byFunction = await offPolicyValue(logs, (_, row) => target.subarray(row * k, (row + 1) * k), { arms: k, estimator: 'ips', seed: 1 });
    expect(byFunction.value).toBeCloseTo(ips.value, 12);
    expect(byFunction.ci).toEqual(ips.ci);
    // The reward model: cross-fitted per-arm logistic models track the true probabilities better than means.
    const q = await fitRewardModel(logs, { arms: k });
    const means = await fitRewardModel(logs, { arms: k, model: 'mean' });
    let errModel = 0, errMean = 0;
    customers.forEach((c, i) => {
      for (let a = 0; a < k; a++) (errModel += (q[i * k + a] - sim.expectedReward(c, a)) ** 2), (errMean += (means[i * k + a] - sim.expectedReward(c, a)) ** 2);
    });
    expect(errModel).toBeLessThan(0.5 * errMean);
    const dr = await offPolicyValue(logs, { probabilities: target }, { arms: k, estimator: 'dr', rewardModel: q, seed: 1 });
    expect(dr.ci[0]).toBeLessThan(truth);
    expect(dr.ci[1]).toBeGreaterThan(truth);
    expect(dr.ci[1] - dr.ci[0]).toBeLessThan(ips.ci[1] - ips.ci[0]);
  });

  it('positions: weights and rewards per slot', async () => {
    // Two arms, two slots; each row is one slot of a logged slate.
    const logs = { actions: [0, 1, 1, 0], positions: [0, 1, 0, 1], rewards: [1, 1, 0, 0], propensities: [0.5, 0.5, 0.25, 0.5] };
    // rows x arms x positions: row 0 π(0, pos 0) = 1; row 1 π(1, pos 1) = 0.5; row 2 π(1, pos 0) = 0.5; row 3 π(0, pos 1) = 1.
    const probabilities = [1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 1, 1, 0];
    const r = await offPolicyValue(logs, { probabilities }, { arms: 2, positions: 2, estimator: 'ips', bootstrap: 0 });
    // w = [2, 1, 2, 0]: IPS = (2 * 1 + 1 * 1 + 0 + 0) / 4.
    expect(r.value).toBeCloseTo(3 / 4, 12);
    const q = await fitRewardModel(logs, { arms: 2, positions: 2, model: 'mean', folds: 1 });
    expect(q.length).toBe(16);
  });

  it('the bootstrap is the same whatever the thread count', async () => {
    const sim = simulate(9, 5000);
    const run = (threads: number) => offPolicyValue(sim.logs, { probabilities: sim.target }, { arms: sim.arms, estimator: 'snips', bootstrap: 500, seed: 3, threads });
    const [one, two] = [await run(1), await run(2)];
    expect(two.ci).toEqual(one.ci);
    expect(one.ci[0]).toBeLessThan(one.value);
    expect(one.ci[1]).toBeGreaterThan(one.value);
  });
});
