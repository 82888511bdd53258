// Bandits: regret on a seeded coupon simulator (contextual policies beat epsilon-greedy and random,
// and their regret grows sublinearly), exact propensities, offers added and retired, eligibility and
// caps, model files that resume exactly, and bad input.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodeOf } from './helpers.js';
import { Bandit, CouponSimulator, loadModel, type BanditPolicyName } from '../src/index.js';
import { Random } from '../src/core/random.js';

/** Cumulative expected regret per round of a policy on the simulator (regret: best expected reward minus the chosen one's). */
function regret(policy: BanditPolicyName | 'random', rounds: number, seed: number, options: Record<string, unknown> = {}): Float64Array {
  const sim = new CouponSimulator({ seed, segments: 4, noiseFeatures: 2 });
  const contextual = ['linucb', 'lin-thompson', 'logistic-thompson'].includes(policy) || (policy === 'epsilon-greedy' && options.dims !== undefined);
  const bandit = policy === 'random' ? null : new Bandit({ policy, arms: sim.offers, seed, ...(contextual ? { dims: sim.dims } : {}), ...options });
  const random = new Random(seed + 1);
  const out = new Float64Array(rounds);
  let total = 0;
  for (let t = 0; t < rounds; t++) {
    const c = sim.customer();
    const arm = bandit ? sim.offers.indexOf(bandit.decide(contextual ? c.context : undefined)!.arm as string) : random.int(sim.offers.length);
    total += sim.expectedReward(c, sim.bestOffer(c)) - sim.expectedReward(c, arm);
    const reward = sim.respond(c, arm);
    bandit?.update(sim.offers[arm], reward, contextual ? c.context : undefined);
    out[t] = total;
  }
  return out;
}

describe('Bandit', () => {
  it('contextual policies reach lower regret than epsilon-greedy and random, growing sublinearly', () => {
    const rounds = 6000;
    const mean = (policy: BanditPolicyName | 'random', options?: Record<string, unknown>) => {
      const sum = new Float64Array(rounds);
      for (const seed of [1, 2, 3]) regret(policy, rounds, seed, options).forEach((v, t) => (sum[t] += v / 3));
      return sum;
    };
    const random = mean('random');
    const greedy = mean('epsilon-greedy');
    const linucb = mean('linucb', { alpha: 0.3 });
    const linTs = mean('lin-thompson', { scale: 0.2 });
    const logTs = mean('logistic-thompson', { scale: 0.5 });
    const end = rounds - 1;
    for (const contextual of [linucb, linTs, logTs]) {
      expect(contextual[end]).toBeLessThan(greedy[end]);
      // Sublinear: the second half adds much less regret than the first.
      const firstHalf = contextual[rounds / 2 - 1];
      expect(contextual[end] - firstHalf).toBeLessThan(0.6 * firstHalf);
    }
    expect(greedy[end]).toBeLessThan(random[end]);
    // Epsilon-greedy without context is linear: it cannot tell segments apart.
    expect(greedy[end] - greedy[rounds / 2 - 1]).toBeGreaterThan(0.7 * greedy[rounds / 2 - 1]);
    for (const r of [random, greedy, linucb, linTs, logTs]) expect(Number.isFinite(r[end])).toBe(true);
  });

  it('non-contextual Thompson and UCB1 find the best offer', () => {
    const sim = new CouponSimulator({ seed: 5, segments: 1, response: [[0.02, 0.1, 0.25, 0.05]] });
    for (const policy of ['thompson', 'ucb1', 'epsilon-greedy'] as const) {
      const bandit = new Bandit({ policy, arms: sim.offers, seed: 9 });
      const shows = new Map<string, number>();
      for (let t = 0; t < 4000; t++) {
        const c = sim.customer();
        const { arm } = bandit.decide()!;
        shows.set(arm as string, (shows.get(arm as string) ?? 0) + 1);
        bandit.update(arm, sim.respond(c, sim.offers.indexOf(arm as string)));
      }
      expect(Math.max(...shows.values()), policy).toBe(shows.get('10off'));
      expect(shows.get('10off')!, policy).toBeGreaterThan(2400);
    }
  });

  it('propensities: exact for epsilon-greedy and UCB, estimates for Thompson that match the choices', () => {
    const eg = new Bandit({ policy: 'epsilon-greedy', arms: ['a', 'b', 'c', 'd'], epsilon: 0.2, seed: 1 });
    for (const arm of ['a', 'b', 'c', 'd']) eg.update(arm, arm === 'c' ? 1 : 0);
    for (let t = 0; t < 50; t++) {
      const d = eg.decide()!;
      expect(d.propensity).toBeCloseTo(d.arm === 'c' ? 0.8 + 0.05 : 0.05, 12);
    }
    expect([...eg.probabilities()]).toEqual([0.05, 0.05, 0.85, 0.05].map((p) => expect.closeTo(p, 12)));
    // Candidates narrow the choice and the probabilities to those offers.
    expect([...eg.probabilities(undefined, { candidates: ['a', 'b'] })]).toEqual([0.5, 0.5, 0, 0]);
    const ucb = new Bandit({ policy: 'ucb1', arms: 3 });
    expect(ucb.decide()!.propensity).toBeCloseTo(1 / 3, 12);

    const ts = new Bandit({ policy: 'thompson', arms: ['x', 'y'], seed: 4, propensitySamples: 2000 });
    for (let t = 0; t < 20; t++) ts.update('x', t % 3 === 0 ? 1 : 0), ts.update('y', t % 2 === 0 ? 1 : 0);
    const p = ts.probabilities(undefined, { samples: 100_000 });
    let ys = 0;
    for (let t = 0; t < 4000; t++) {
      const d = ts.decide()!;
      ys += d.arm === 'y' ? 1 : 0;
      expect(Math.abs(d.propensity - p[d.arm === 'x' ? 0 : 1])).toBeLessThan(0.05);
    }
    expect(ys / 4000).toBeCloseTo(p[1], 1);
  });

  it('offers: added and retired while running, eligibility rules and caps', () => {
    const b = new Bandit({ policy: 'ucb1', arms: [{ id: 'de-only', when: { country: { in: ['DE'] } } }, { id: 'adults', when: { age: { gte: 18 } } }, { id: 'capped', maxRedemptions: 1 }], seed: 2 });
    const shown = (attributes: Record<string, unknown>) => new Set(Array.from({ length: 30 }, () => b.decide(undefined, { attributes })?.arm));
    expect(shown({ country: 'FR', age: 12 })).toEqual(new Set(['capped']));
    b.update('capped', 1);
    expect(b.decide(undefined, { attributes: { country: 'FR', age: 12 } })).toBeNull();
    expect(shown({ country: 'DE', age: 40 })).toEqual(new Set(['de-only', 'adults']));
    b.addArm('new', { maxShows: 2 });
    b.retireArm('adults');
    const seen = shown({ country: 'FR', age: 40 });
    expect(seen.has('adults')).toBe(false);
    expect(b.stats().find((s) => s.arm === 'new')!.shows).toBe(2);
    b.addArm('adults');
    expect(b.stats().find((s) => s.arm === 'adults')!.active).toBe(true);
    expect(() => b.addArm('adults')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(b.arms).toEqual(['de-only', 'adults', 'capped', 'new']);
  });

  it('hybrid linucb shares what it learns across offers through their features', () => {
    // Reward = x0 * (offer feature). A disjoint model's new offer starts at 0; the hybrid's starts from
    // the shared part (ridge splits the effect between it and the offers' own parts, so not all of it).
    const features = [0.1, 0.3, 0.5, 0.7, 0.9, 1.1];
    const b = new Bandit({ policy: 'linucb', dims: 2, offerDims: 1, arms: features.map((f) => ({ id: `f${f}`, features: [f] })), alpha: 0.1, seed: 1 });
    const random = new Random(3);
    for (let t = 0; t < 1500; t++) {
      const x = [random.next(), 1];
      const { arm } = b.decide(x)!;
      b.update(arm, x[0] * features[b.arms.indexOf(arm)] + 0.05 * random.normal(), x);
    }
    b.addArm('new', { features: [1.5] });
    const { mean } = b.estimate('new', [0.8, 1]);
    expect(mean).toBeGreaterThan(0.5 * 0.8 * 1.5);
    expect(mean).toBeLessThan(0.8 * 1.5 + 0.05);
    expect(() => b.addArm('nofeatures')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_DIM_MISMATCH' }));
  });

  it('named features, and a saved bandit resumes exactly (decisions, counters, rules)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-bandit-'));
    for (const policy of ['lin-thompson', 'linucb', 'thompson', 'epsilon-greedy', 'logistic-thompson'] as const) {
      const contextual = policy !== 'thompson' && policy !== 'epsilon-greedy';
      const b = new Bandit({ policy, arms: ['a', 'b', { id: 'c', maxShows: 40 }], seed: 6, ...(contextual ? { featureNames: ['recency', 'spend'] } : {}) });
      const ctx = (t: number) => (contextual ? { recency: (t % 7) / 7, spend: (t % 3) - 1 } : undefined);
      for (let t = 0; t < 60; t++) b.update(b.decide(ctx(t))!.arm, t % 4 === 0 ? 1 : 0, ctx(t));
      const path = join(dir, `${policy}.affinity`);
      await b.save(path);
      const back = (await loadModel(path)) as Bandit;
      expect(back.kind).toBe('bandit');
      expect(back.stats()).toEqual(b.stats());
      for (let t = 60; t < 120; t++) {
        const d1 = b.decide(ctx(t)), d2 = back.decide(ctx(t));
        expect(d2).toEqual(d1);
        b.update(d1!.arm, t % 5 === 0 ? 1 : 0, ctx(t)), back.update(d2!.arm, t % 5 === 0 ? 1 : 0, ctx(t));
      }
      if (contextual) expect([...back.coefficients('a')]).toEqual([...b.coefficients('a')]);
    }
  });

  it('bad input has codes', () => {
    const code = errorCodeOf;
    expect(code(() => new Bandit({ arms: 2 } as never))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new Bandit({ policy: 'linucb', arms: 2 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new Bandit({ policy: 'thompson', arms: 2, dims: 3 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new Bandit({ policy: 'ucb1', arms: [] }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new Bandit({ policy: 'epsilon-greedy', arms: 2, epsilon: 2 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new Bandit({ policy: 'ucb1', arms: [{ id: 'a', when: { x: { near: 1 } } } as never] }))).toBe('ERR_AFFINITY_BAD_INPUT');
    const b = new Bandit({ policy: 'linucb', arms: ['a', 'b'], featureNames: ['f', 'g'] });
    expect(code(() => b.decide([1]))).toBe('ERR_AFFINITY_DIM_MISMATCH');
    expect(code(() => b.decide([1, NaN]))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => b.decide({ f: 1 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => b.decide())).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => b.update('zz', 1, [1, 2]))).toBe('ERR_AFFINITY_UNKNOWN_ID');
    expect(code(() => b.update('a', NaN, [1, 2]))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => b.decide([1, 2], { candidates: 'a' as never }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(b.decide([1, 2], { candidates: ['nope'] })).toBeNull();
    const ts = new Bandit({ policy: 'thompson', arms: 2 });
    expect(code(() => ts.update(0, 3))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => ts.decide([1, 2]))).toBe('ERR_AFFINITY_BAD_INPUT');
  });
});
