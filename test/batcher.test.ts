import { describe, expect, it } from 'vitest';
import type { ALS } from '../src/index.js';
import { RecommendBatcher } from '../src/server/batcher.js';

// A model whose batches finish when the test says so, recording what each batch asked for.
function stubModel() {
  const calls: { users: string[]; k: number; finish: () => void }[] = [];
  const model = {
    recommendBatch(users: string[], options: { k: number }) {
      return new Promise((resolve) => {
        calls.push({
          users,
          k: options.k,
          finish: () => resolve({ get: (i: number) => Array.from({ length: options.k }, (_, r) => ({ item: `${users[i]}-${r}`, score: -r })) }),
        });
      });
    },
  };
  return { model: model as unknown as ALS, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RecommendBatcher', () => {
  it('coalesces concurrent requests, runs at most maxInFlight batches, and cuts each answer to its k', async () => {
    const { model, calls } = stubModel();
    const batcher = new RecommendBatcher(model, 64, 1);
    const first = [batcher.recommend('a', 2), batcher.recommend('b', 3)];
    await tick();
    expect(calls.map((c) => c.users)).toEqual([['a', 'b']]);
    expect(calls[0].k).toBe(3);
    // While the first batch runs, later requests wait and then go together.
    const second = [batcher.recommend('c', 1), batcher.recommend('d', 1), batcher.recommend('e', 1)];
    await tick();
    expect(calls.length).toBe(1);
    calls[0].finish();
    const [a, b] = await Promise.all(first);
    expect(a.map((r) => r.item)).toEqual(['a-0', 'a-1']);
    expect(b.length).toBe(3);
    await tick();
    expect(calls.map((c) => c.users)).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    calls[1].finish();
    expect((await Promise.all(second)).map((r) => r[0].item)).toEqual(['c-0', 'd-0', 'e-0']);
  });

  it('splits a queue longer than maxBatch', async () => {
    const { model, calls } = stubModel();
    const batcher = new RecommendBatcher(model, 2, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((u) => batcher.recommend(u, 1));
    await tick();
    expect(calls.map((c) => c.users)).toEqual([['a', 'b'], ['c', 'd']]);
    calls[0].finish();
    await tick();
    expect(calls.map((c) => c.users)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    calls[1].finish();
    calls[2].finish();
    expect((await Promise.all(all)).map((r) => r[0].item)).toEqual(['a-0', 'b-0', 'c-0', 'd-0', 'e-0']);
  });
});
