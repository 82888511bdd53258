// The model contract, run against every kind (implicit's shared recommender test mixin plays this role):
// filters, unknown ids, k bounds, batch = single, save -> load equality, corrupt files rejected.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALS, BPR, ContentRecommender, EASE, ItemKNN, loadModel, loadRecommender, MostPopular, UserKNN, type Interactions, type Recommender } from '../src/index.js';
import { randomInteractions } from './helpers.js';

const WORDS = ['tea', 'green', 'black', 'coffee', 'beans', 'mug', 'pot', 'honey', 'jam', 'bread', 'oat', 'rye'];

const KINDS: Record<string, (data: Interactions) => Promise<Recommender>> = {
  'als implicit': (d) => new ALS({ factors: 8, iterations: 4, seed: 3 }).fit(d),
  'als explicit': (d) => new ALS({ factors: 8, iterations: 4, feedback: 'explicit', seed: 3 }).fit(d),
  itemknn: (d) => new ItemKNN({ k: 20 }).fit(d),
  ease: (d) => new EASE({ lambda: 5 }).fit(d),
  'ease pruned': (d) => new EASE({ lambda: 5, keep: 12 }).fit(d),
  bpr: (d) => new BPR({ factors: 8, epochs: 20, threads: 1, seed: 3 }).fit(d),
  userknn: (d) => new UserKNN({ k: 20 }).fit(d),
  popular: (d) => new MostPopular().fit(d),
  content: (d) =>
    new ContentRecommender({ maxDf: 0.9 }).fit(
      d.items.ids.map((id, i) => ({ id, text: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 5 + 1) % WORDS.length]}`, categories: `c${i % 4}` })),
      d,
    ),
};

const code = (c: string) => expect.objectContaining({ code: c });

for (const [name, make] of Object.entries(KINDS)) {
  describe(`contract: ${name}`, () => {
    let data: Interactions;
    let model: Recommender;
    let dir: string;
    beforeAll(async () => {
      data = await randomInteractions({ users: 60, items: 45, density: 0.12, seed: 11 });
      model = await make(data);
      dir = await mkdtemp(join(tmpdir(), 'affinity-contract-'));
    });
    const seenOf = (u: number) => new Set(data.itemsOf(data.users.ids[u]).map((x) => x.item));

    it('names its kind and knows its users and items', () => {
      expect(model.fitted).toBe(true);
      expect(typeof model.kind).toBe('string');
      expect(model.users.size).toBe(data.userCount);
      expect(model.items.size).toBe(data.itemCount);
    });

    it('ranks best first, without duplicates, and leaves seen items out unless asked', () => {
      for (let u = 0; u < 20; u++) {
        const user = data.users.ids[u];
        const recs = model.recommend(user, { k: 10 });
        expect(recs.length).toBeGreaterThan(0);
        expect(new Set(recs.map((r) => r.item)).size).toBe(recs.length);
        for (let j = 1; j < recs.length; j++) expect(recs[j - 1].score).toBeGreaterThanOrEqual(recs[j].score);
        const seen = seenOf(u);
        for (const r of recs) expect(seen.has(r.item)).toBe(false);
      }
      // filterSeen: false lets the user's own items back in (somebody's history reaches the top 45).
      const withSeen = data.users.ids.slice(0, 20).some((user, u) => model.recommend(user, { k: 45, filterSeen: false }).some((r) => seenOf(u).has(r.item)));
      expect(withSeen).toBe(true);
    });

    it('honours exclude and include, ignoring unknown ids', () => {
      const user = data.users.ids[3];
      const top = model.recommend(user, { k: 5 }).map((r) => r.item);
      const excluded = model.recommend(user, { k: 5, exclude: [top[0], 'no-such-item'] }).map((r) => r.item);
      expect(excluded).not.toContain(top[0]);
      const allowed = [top[1], top[2], 'no-such-item'];
      const included = model.recommend(user, { k: 5, include: allowed }).map((r) => r.item);
      expect(included.length).toBeGreaterThan(0);
      for (const i of included) expect(allowed).toContain(i);
      expect(model.recommend(user, { include: ['no-such-item'] })).toEqual([]);
    });

    it('bounds k: 0 gives nothing, a huge k everything there is, a bad k an error', () => {
      const user = data.users.ids[0];
      expect(model.recommend(user, { k: 0 })).toEqual([]);
      const all = model.recommend(user, { k: 1e12 });
      expect(all.length).toBeLessThanOrEqual(data.itemCount - seenOf(0).size);
      expect(all.length).toBeGreaterThan(10);
      for (const k of [-1, 1.5, Number.NaN, '3']) expect(() => model.recommend(user, { k: k as number })).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
      expect(() => model.recommend(user, { filterSeen: 'yes' as unknown as boolean })).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    });

    it('single ids: unknown ones throw UNKNOWN_ID; lists answer for the known ids and report the others', async () => {
      expect(() => model.recommend('no-such-user')).toThrow(code('ERR_AFFINITY_UNKNOWN_ID'));
      expect(() => model.recommend({} as unknown as string)).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
      expect(() => model.score('no-such-user', [data.items.ids[0]])).toThrow(code('ERR_AFFINITY_UNKNOWN_ID'));
      const [a, b] = data.items.ids;
      const scores = model.score(data.users.ids[0], [a, 'no-such-item', b]);
      expect(scores).toHaveLength(3);
      expect(Number.isNaN(scores[1])).toBe(true);
      expect([scores[0], scores[2]]).toEqual(model.score(data.users.ids[0], [a, b]));
      expect(scores.unknown).toEqual(['no-such-item']);
      expect(() => model.score(data.users.ids[0], [null as unknown as string])).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
      const [u0, u1] = data.users.ids;
      const batch = await model.recommendBatch([u0, 'no-such-user', u1], { k: 5 });
      expect(batch.users).toEqual([u0, u1]);
      expect(batch.unknown).toEqual(['no-such-user']);
      expect(batch.get(1)).toEqual(model.recommend(u1, { k: 5 }));
      await expect(model.recommendBatch([u0, NaN])).rejects.toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    });

    it('answers a batch as it answers each user', async () => {
      const users = data.users.ids.slice(0, 12) as (string | number)[];
      const batch = await model.recommendBatch(users, { k: 7 });
      users.forEach((u, row) => {
        const single = model.recommend(u, { k: 7 });
        expect(batch.get(row).map((r) => r.item)).toEqual(single.map((r) => r.item));
        batch.get(row).forEach((r, j) => expect(r.score).toBeCloseTo(single[j].score, 5));
      });
    });

    it('scores agree with the ranking', () => {
      const user = data.users.ids[5];
      const recs = model.recommend(user, { k: 5 });
      const scores = model.score(user, recs.map((r) => r.item));
      scores.forEach((s, j) => expect(s).toBeCloseTo(recs[j].score, 4));
    });

    it('saves and loads to the same model', async () => {
      const path = join(dir, `${name.replace(' ', '-')}.affinity`);
      await model.save(path);
      const back = await loadRecommender(path);
      expect(back.kind).toBe(model.kind);
      expect(back.constructor).toBe(model.constructor);
      for (let u = 0; u < data.userCount; u += 7) {
        const user = data.users.ids[u];
        const a = model.recommend(user, { k: 8 });
        const b = back.recommend(user, { k: 8 });
        expect(b.map((r) => r.item)).toEqual(a.map((r) => r.item));
        b.forEach((r, j) => expect(r.score).toBeCloseTo(a[j].score, 5));
      }
    });

    it('rejects a corrupted or truncated file with CORRUPT_FILE', async () => {
      const path = join(dir, `${name.replace(' ', '-')}-bad.affinity`);
      await model.save(path);
      const bytes = await readFile(path);
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(bytes.length / 2)] ^= 0x40;
      await writeFile(path, flipped);
      await expect(loadModel(path)).rejects.toThrow(code('ERR_AFFINITY_CORRUPT_FILE'));
      await writeFile(path, bytes.subarray(0, bytes.length - 100));
      await expect(loadModel(path)).rejects.toThrow(code('ERR_AFFINITY_CORRUPT_FILE'));
    });
  });
}
