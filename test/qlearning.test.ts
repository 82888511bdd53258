// Q-learning and SARSA: convergence to the optimal policy of a small known MDP (the coupon simulator's
// exact model, solved by value iteration), a hand-solved chain, the readable table, files, bad input.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodeOf } from './helpers.js';
import { CouponSimulator, loadModel, TabularAgent, valueIteration, type MarkovModel } from '../src/index.js';

// Fatigue makes resting part of the best policy: after contacts, "none" lets the response recover.
const simulator = (seed: number) =>
  new CouponSimulator({
    seed,
    offers: ['none', 'coupon', 'freeship'],
    segments: 2,
    response: [
      [0.05, 0.6, 0.3],
      [0.05, 0.25, 0.7],
    ],
    fatigue: 0.6,
    memory: 2,
  });

describe('TabularAgent', () => {
  it('value iteration solves a hand-made chain', () => {
    // State 0: action 0 stays (reward 1), action 1 moves to state 1 (reward 0); state 1: action 0 stays with reward 3.
    const model: MarkovModel = { states: 2, actions: 2, reward: Float64Array.from([1, 0, 3, 0]), next: Int32Array.from([0, 1, 1, 0]) };
    const { values, policy } = valueIteration(model, 0.5);
    // V1 = 3 / (1 - 0.5) = 6; V0 = max(1 + 0.5 V0, 0 + 0.5 * 6) -> staying gives 2, moving gives 3.
    expect(values[1]).toBeCloseTo(6, 8);
    expect(values[0]).toBeCloseTo(3, 8);
    expect([...policy]).toEqual([1, 0]);
  });

  for (const method of ['q-learning', 'sarsa'] as const)
    it(`${method} converges to the optimal policy of the coupon simulator`, async () => {
      const sim = simulator(7);
      const optimal = valueIteration(sim.model(), 0.8);
      // The optimum rests after contacts in some states: the test covers a policy that is not myopic.
      expect([...optimal.policy]).toContain(0);
      expect(new Set(optimal.policy).size).toBeGreaterThan(1);
      const agent = new TabularAgent({
        method,
        states: sim.states,
        actions: sim.offers.length,
        discount: 0.8,
        epsilon: method === 'sarsa' ? { start: 1, end: 0.02, halfLife: 2000 } : 0.3,
        seed: 11,
      });
      const returns = await agent.train(sim.environment(25), { episodes: 30_000 });
      expect(returns.length).toBe(30_000);
      expect([...agent.policy()]).toEqual([...optimal.policy]);
      // Q-learning's values approach the optimum's (SARSA's carry its exploration).
      if (method === 'q-learning') for (let i = 0; i < agent.q.length; i++) expect(Math.abs(agent.q[i] - optimal.q[i])).toBeLessThan(0.25);
      const table = agent.table((s) => sim.stateLabel(s), sim.offers);
      expect(table[0]).toMatchObject({ state: 0, label: 'segment 0, 0 recent contacts', action: sim.offers[optimal.policy[0]] });
      expect(Object.keys(table[0].values)).toEqual(sim.offers);
    });

  it('a saved table loads back', async () => {
    const sim = simulator(2);
    const agent = new TabularAgent({ states: sim.states, actions: 3, seed: 1 });
    await agent.train(sim.environment(5), { episodes: 200 });
    const path = join(await mkdtemp(join(tmpdir(), 'affinity-q-')), 'q.affinity');
    await agent.save(path);
    const back = (await loadModel(path)) as TabularAgent;
    expect(back.kind).toBe('q-table');
    expect([...back.q]).toEqual([...agent.q]);
    expect([...back.policy()]).toEqual([...agent.policy()]);
    expect(back.episodes).toBe(200);
  });

  it('bad input has codes', async () => {
    const code = errorCodeOf;
    expect(code(() => new TabularAgent({ states: 0, actions: 2 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new TabularAgent({ states: 2, actions: 2, discount: 2 }))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => new TabularAgent({ states: 2, actions: 2, epsilon: 'visits' as never }))).toBe('ERR_AFFINITY_BAD_INPUT');
    const agent = new TabularAgent({ states: 2, actions: 2, method: 'sarsa' });
    expect(code(() => agent.learn(5, 0, 1, 0, false, 0))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => agent.learn(0, 0, NaN, 0, false, 0))).toBe('ERR_AFFINITY_BAD_INPUT');
    expect(code(() => agent.learn(0, 0, 1, 1, false))).toBe('ERR_AFFINITY_BAD_INPUT');
    await expect(agent.train(simulator(1).environment(3), { episodes: 3 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
    expect(code(() => new CouponSimulator({ response: [[0.1]] }))).toBe('ERR_AFFINITY_DIM_MISMATCH');
  });
});
