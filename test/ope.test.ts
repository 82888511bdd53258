// Off-policy evaluation: a hand-computed case, unbiasedness over seeded simulated logs (and a biased
// reward model that the direct method cannot see past), interval coverage, bad input.
import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { offPolicyValue, type OpeEstimator } from '../src/index.js';

describe('offPolicyValue', () => {
  it('matches a hand-computed case', () => {
    const logs = { actions: [0, 1, 1], rewards: [1, 0, 1], propensities: [0.5, 0.25, 0.5] };
    const policy = { probabilities: [1, 0, 0.5, 0.5, 0, 1] }; // rows x 2 arms
    // w = [2, 2, 2]: IPS (2 + 0 + 2) / 3; SNIPS 4 / 6.
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'ips', bootstrap: 0 }).value).toBeCloseTo(4 / 3, 12);
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'snips', bootstrap: 0 }).value).toBeCloseTo(4 / 6, 12);
    const q = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    // DM 0.5 per row; DR adds w (r - 0.5): +1, -1, +1.
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'dm', rewardModel: q, bootstrap: 0 }).value).toBeCloseTo(0.5, 12);
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'dr', rewardModel: q, bootstrap: 0 }).value).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'switch-dr', rewardModel: q, tau: 1, bootstrap: 0 }).value).toBeCloseTo(0.5, 12);
    expect(offPolicyValue(logs, policy, { arms: 2, estimator: 'ips', clip: 1, bootstrap: 0 }).value).toBeCloseTo(2 / 3, 12);
    expect(offPolicyValue(logs, policy, { arms: 2, bootstrap: 0 }).effectiveSampleSize).toBeCloseTo(3, 12);
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

  it('ips, snips and dr are unbiased over seeded logs; dm inherits its model bias', () => {
    const seeds = 150;
    const estimates = new Map<OpeEstimator, number[]>();
    let truth = 0;
    for (let s = 0; s < seeds; s++) {
      const sim = simulate(s + 1, 1000);
      truth += sim.truth / seeds;
      for (const estimator of ['ips', 'snips', 'dr', 'dm'] as OpeEstimator[]) {
        const r = offPolicyValue(sim.logs, { probabilities: sim.target }, { arms: sim.arms, estimator, rewardModel: sim.model, bootstrap: 0 });
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

  it('bootstrap intervals cover the truth at about their nominal rate', () => {
    let covered = 0;
    const trials = 60;
    for (let s = 0; s < trials; s++) {
      const sim = simulate(500 + s, 800);
      const r = offPolicyValue(sim.logs, { probabilities: sim.target }, { arms: sim.arms, estimator: 'dr', rewardModel: sim.model, bootstrap: 300, seed: s });
      if (r.ci[0] <= sim.truth && sim.truth <= r.ci[1]) covered++;
    }
    // 95% nominal; within binomial error of 60 trials (and the truth here is conditional on the contexts).
    expect(covered / trials).toBeGreaterThan(0.85);
  });

  it('refuses bad logs and policies with a code', () => {
    const logs = { actions: [0, 1], rewards: [1, 0], propensities: [0.5, 0.5] };
    const uniform = { probabilities: [0.5, 0.5, 0.5, 0.5] };
    expect(() => offPolicyValue(logs, uniform, { arms: 2, estimator: 'dr' })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_DIM_MISMATCH' }));
    expect(() => offPolicyValue({ ...logs, propensities: [0, 0.5] }, uniform, { arms: 2 })).toThrow(/propensity 0/);
    expect(() => offPolicyValue({ ...logs, actions: [0, 2] }, uniform, { arms: 2 })).toThrow(/action 1 is 2/);
    expect(() => offPolicyValue(logs, { probabilities: [0.5, 0.5] }, { arms: 2 })).toThrow(/rows x arms/);
    expect(() => offPolicyValue(logs, () => [2, 0], { arms: 2 })).toThrow(/probability of arm 0/);
    expect(() => offPolicyValue(logs, uniform, { arms: 2, estimator: 'magic' as never })).toThrow(/estimator/);
    expect(() => offPolicyValue({ actions: [], rewards: [], propensities: [] }, uniform, { arms: 2 })).toThrow(/no rows/);
    expect(offPolicyValue(logs, (row) => (row === 0 ? [1, 0] : [0, 1]), { arms: 2, estimator: 'ips', bootstrap: 0 }).value).toBe(1);
  });
});
