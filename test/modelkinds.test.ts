// Every model kind is a file: save -> load gives the same answers on the same inputs, with the training
// metadata; crafted and truncated files of each kind are ERR_AFFINITY_CORRUPT_FILE; describeModel reads a
// file without building it; files written in format 1 still load.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Bandit,
  TabularAgent,
  ALS,
  CoPurchaseRules,
  ContentRecommender,
  describeModel,
  HybridRecommender,
  Interactions,
  ItemKNN,
  loadModel,
  loadRecommender,
  LogisticRegression,
  MODEL_FORMAT_VERSION,
  MODEL_KINDS,
  MostPopular,
  PropensityScorer,
  Segmentation,
  type AnyModel,
  type Model,
} from '../src/index.js';
import { demoShop, type DemoShop } from '../src/data/synthetic.js';
import { demoAnalytics } from '../src/server/demo.js';

let dir: string;
let shop: DemoShop;
let als: ALS;
let kinds: Awaited<ReturnType<typeof demoAnalytics>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-kinds-'));
  shop = await demoShop(5, 200, 4000);
  als = await new ALS({ factors: 8, iterations: 4, seed: 2 }).fit(shop.data);
  kinds = await demoAnalytics(shop, als);
});

async function roundTrip<T extends Model>(model: T, name: string): Promise<T> {
  const path = join(dir, `${name}.affinity`);
  await model.save(path);
  const back = (await loadModel(path)) as unknown as T;
  expect(back.constructor, name).toBe(model.constructor);
  expect(back.kind).toBe(model.kind);
  expect(back.metadata, `${name} metadata`).toEqual(model.metadata);
  return back;
}

describe('save -> load is exact for every kind', () => {
  it('lists every kind', () => {
    expect([...MODEL_KINDS].sort()).toEqual(['als', 'bpr', 'ease', 'betageo', 'clv', 'content', 'forest', 'gammagamma', 'hybrid', 'itemknn', 'logistic', 'paretonbd', 'popular', 'propensity', 'rules', 'segments', 'tree', 'uplift', 'userknn', 'bandit', 'q-table'].sort());
    expect(MODEL_FORMAT_VERSION).toBe(2);
  });

  it('segments: assignments, profiles, fit figures and new-row assignment', async () => {
    const s = kinds.segments;
    const back = await roundTrip(s, 'segments');
    for (const c of s.customers.ids) expect(back.segmentOf(c)).toEqual(s.segmentOf(c));
    expect([back.inertia, back.silhouette, back.featureNames]).toEqual([s.inertia, s.silhouette, s.featureNames]);
    expect(back.space.centroids).toEqual(s.space.centroids);
    // A customer's own RFM row lands in their segment (the stored space is the training one).
    const stats = shop.transactions;
    let agree = 0;
    const rows = new Map<string | number, number[]>();
    const first = new Map<string | number, number>();
    for (let i = 0; i < stats.size; i++) {
      const c = stats.customers.ids[stats.customer[i]];
      const row = rows.get(c) ?? [0, 0, 0];
      first.set(c, Math.max(first.get(c) ?? -Infinity, stats.time[i]));
      row[2] += stats.amount[i];
      rows.set(c, row);
    }
    const baskets = new Map<string | number, Set<number>>();
    for (let i = 0; i < stats.size; i++) {
      const c = stats.customers.ids[stats.customer[i]];
      (baskets.get(c) ?? baskets.set(c, new Set()).get(c)!).add(stats.basket[i]);
    }
    for (const c of s.customers.ids) {
      const row = rows.get(c)!;
      row[0] = (s.space.asOf - first.get(c)!) / 86400;
      row[1] = baskets.get(c)!.size;
      expect(back.assign(row)).toBe(s.assign(row));
      if (s.assign(row) === s.segmentOf(c).segment) agree++;
    }
    expect(agree / s.customers.size).toBeGreaterThan(0.99);
    expect(() => back.assign([1, 2])).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_DIM_MISMATCH' }));
  });

  it('propensity: scores, attributions and scores from purchase lines through the stored recipe', async () => {
    const p = kinds.propensity;
    const back = await roundTrip(p, 'propensity');
    const some = p.dataset.customers.ids.slice(0, 40);
    expect(back.score(some, 4)).toEqual(p.score(some, 4));
    const mixed = back.score([some[0], 'nobody', some[1]], 4);
    expect(mixed.map((r) => r.customer)).toEqual([some[0], some[1]]);
    expect(mixed.unknown).toEqual(['nobody']);
    // A known customer's own lines, as of the cutoff the rows were computed at, give the row they have.
    const tx = shop.transactions;
    const lines = some.map((customer) => ({
      customer,
      lines: Array.from({ length: tx.size }, (_, i) => i)
        .filter((i) => tx.customers.ids[tx.customer[i]] === customer && tx.time[i] < p.dataset.recipe.cutoff)
        .map((i) => ({ item: tx.items.ids[tx.item[i]], time: tx.time[i], amount: tx.amount[i], basket: tx.basket[i] })),
    }));
    const fromLines = back.scoreLines(lines, { asOf: p.dataset.recipe.cutoff, top: 4 });
    const byId = p.score(some, 4);
    fromLines.forEach((r, i) => expect(r.probability, String(r.customer)).toBeCloseTo(byId[i].probability, 5));
    expect(back.model.predictProba(p.dataset.features)).toEqual(p.model.predictProba(p.dataset.features));
    expect(() => back.scoreLines([{ customer: 'x', lines: [] }])).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
  });

  it('forests and uplift models: predictions, schema and kept customers', async () => {
    const f = kinds.forest;
    const back = await roundTrip(f, 'forest');
    const rows = [{ recencyDays: 20, baskets: 4, spend: 300, channel: 'web', arm: 'email' }, { recencyDays: 200, channel: 'phone' }];
    expect(Array.from(back.predictRecords(rows))).toEqual(Array.from(f.predictRecords(rows)));
    expect(back.describe()).toBe(f.describe());
    const u = kinds.uplift;
    const ub = await roundTrip(u, 'uplift');
    const ids = u.customers!.ids.ids.slice(0, 20);
    expect(Array.from((await ub.scoreCustomers([...ids])).uplift)).toEqual(Array.from((await u.scoreCustomers([...ids])).uplift));
  });

  it('logistic regression alone', async () => {
    const m = kinds.propensity.model as LogisticRegression;
    const back = await roundTrip(m, 'logistic');
    expect(back.coefficients).toEqual(m.coefficients);
    expect([back.intercept, back.featureNames, back.report]).toEqual([m.intercept, m.featureNames, m.report]);
    expect(back.attributions(kinds.propensity.dataset.features.values.subarray(0, m.coefficients.length), 3)).toEqual(
      m.attributions(kinds.propensity.dataset.features.values.subarray(0, m.coefficients.length), 3),
    );
  });

  it('co-purchase rules', async () => {
    const r = kinds.rules;
    const back = await roundTrip(r, 'rules');
    expect(back.size).toBe(r.size);
    expect(back.top(50)).toEqual(r.top(50));
    for (const item of r.items.ids.slice(0, 30)) expect(back.rulesFor(item)).toEqual(r.rulesFor(item));
    expect(back.alsoBought(r.items.ids.slice(0, 3) as string[], { k: 7 })).toEqual(r.alsoBought(r.items.ids.slice(0, 3) as string[], { k: 7 }));
  });

  it('content and hybrid (both parts embedded in one file)', async () => {
    const c = kinds.content;
    const cb = await roundTrip(c, 'content');
    const h = kinds.hybrid;
    const hb = await roundTrip(h, 'hybrid');
    expect(hb.content.metadata).toEqual(c.metadata);
    expect(hb.collaborative.metadata).toEqual(als.metadata);
    for (const u of shop.data.users.ids.slice(0, 25)) {
      expect(hb.recommend(u, { k: 6 })).toEqual(h.recommend(u, { k: 6 }));
      expect(cb.recommend(u, { k: 6 })).toEqual(c.recommend(u, { k: 6 }));
    }
    const items = shop.data.items.ids.slice(0, 3);
    expect(hb.recommendFor({ items }, { k: 6 })).toEqual(h.recommendFor({ items }, { k: 6 }));
    expect(cb.similarItems(items[0], { k: 6 })).toEqual(c.similarItems(items[0], { k: 6 }));
  });

  it('recommenders keep their metadata, and loadRecommender refuses the other kinds', async () => {
    const back = await roundTrip(als, 'als');
    expect(back.metadata).toMatchObject({ library: expect.any(String), data: { users: shop.data.userCount, items: shop.data.itemCount }, options: { factors: 8 } });
    expect(Date.parse(back.metadata!.trainedAt)).toBeGreaterThan(Date.parse('2020-01-01'));
    await kinds.rules.save(join(dir, 'r.affinity'));
    await expect(loadRecommender(join(dir, 'r.affinity'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_UNSUPPORTED', message: expect.stringMatching(/rules model/) });
  });
});

describe('describeModel', () => {
  it('tells kind, version, sizes, metadata and parts without building the model', async () => {
    const path = join(dir, 'described.affinity');
    await kinds.hybrid.save(path);
    const d = await describeModel(path);
    expect(d).toMatchObject({ kind: 'hybrid', formatVersion: 2, fields: { countedItems: shop.data.itemCount } });
    expect(d.bytes).toBe((await readFile(path)).length);
    expect(Object.keys(d.parts)).toEqual(['content', 'collaborative']);
    expect(d.parts.collaborative).toMatchObject({ kind: 'als', fields: { users: shop.data.userCount }, metadata: { options: { factors: 8 } } });
    expect(d.parts.collaborative.arrays['userFactors']).toEqual({ dtype: 'f32', length: shop.data.userCount * 8 });
    expect(d.fields).not.toHaveProperty('ids'); // id lists are left out
  });
});

describe('format 1 files', () => {
  // Written by the previous release (commit 2547077) from the data below; they must keep loading.
  const fixtures = new URL('./fixtures/format-v1/', import.meta.url).pathname;
  let data: Interactions;
  beforeAll(async () => {
    const users: string[] = [], items: string[] = [], values: number[] = [];
    for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) if ((u * 7 + i * 3) % 5 === 0) users.push(`u${u}`), items.push(`i${i}`), values.push(1 + ((u + i) % 3));
    data = await Interactions.fromArrays({ users, items, values });
  });

  it('load, and answer as the same model trained now', async () => {
    const now: Record<string, Model> = {
      als: await new ALS({ factors: 4, iterations: 3, seed: 1 }).fit(data),
      itemknn: await new ItemKNN({ k: 5 }).fit(data),
      popular: await new MostPopular().fit(data),
      content: await new ContentRecommender().fit(Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, text: `product ${i % 4} colour ${i % 3}`, categories: `c${i % 2}` })), data),
    };
    for (const [name, fresh] of Object.entries(now)) {
      expect((await describeModel(join(fixtures, `${name}.affinity`))).formatVersion).toBe(1);
      const old = await loadRecommender(join(fixtures, `${name}.affinity`));
      expect(old.kind).toBe(name);
      expect(old.metadata).toBeUndefined();
      for (const u of ['u0', 'u7', 'u29']) {
        const a = old.recommend(u, { k: 5 });
        const b = (fresh as typeof old).recommend(u, { k: 5 });
        expect(a.map((r) => r.item), `${name} ${u}`).toEqual(b.map((r) => r.item));
        a.forEach((r, j) => expect(r.score).toBeCloseTo(b[j].score, 5));
      }
    }
  });
});

/** A model file's frame, for crafting: the header JSON and a rewrite that keeps every array in place. */
async function frame(path: string) {
  const bytes = await readFile(path);
  const at = Number(bytes.readBigUInt64LE(16));
  const length = Number(bytes.readBigUInt64LE(24));
  const header = JSON.parse(bytes.subarray(at, at + length).toString('utf8')) as Record<string, unknown> & { arrays: Record<string, { offset: number; length: number; dtype: string }> };
  return {
    header,
    bytes,
    /** Writes the file back with this header (and any array bytes changed in `bytes`), checksum recomputed. */
    async write(to: string) {
      const json = Buffer.from(JSON.stringify(header));
      const body = Buffer.concat([bytes.subarray(0, at), json]);
      body.writeBigUInt64LE(BigInt(json.length), 24);
      const trailer = Buffer.alloc(16);
      trailer.writeUInt32LE(crc32(body) >>> 0, 0);
      Buffer.from('AFFEND\0\0', 'latin1').copy(trailer, 8);
      await writeFile(to, Buffer.concat([body, trailer]));
    },
  };
}

describe('crafted and truncated files of every kind are ERR_AFFINITY_CORRUPT_FILE', () => {
  type Craft = [string, (f: Awaited<ReturnType<typeof frame>>) => void, RegExp];
  const f64 = (f: Awaited<ReturnType<typeof frame>>, name: string, i: number, v: number) => f.bytes.writeDoubleLE(v, f.header.arrays[name].offset + 8 * i);
  const i32 = (f: Awaited<ReturnType<typeof frame>>, name: string, i: number, v: number) => f.bytes.writeInt32LE(v, f.header.arrays[name].offset + 4 * i);
  const f32 = (f: Awaited<ReturnType<typeof frame>>, name: string, i: number, v: number) => f.bytes.writeFloatLE(v, f.header.arrays[name].offset + 4 * i);
  const cases: Record<string, () => Model> = {
    segments: () => kinds.segments,
    propensity: () => kinds.propensity,
    logistic: () => kinds.propensity.model,
    rules: () => kinds.rules,
    hybrid: () => kinds.hybrid,
    content: () => kinds.content,
    forest: () => kinds.forest,
    uplift: () => kinds.uplift,
    bandit: () => {
      const b = new Bandit({ policy: 'linucb', arms: ['a', 'b', { id: 'c', maxRedemptions: 2 }], dims: 2, seed: 3 });
      b.update('a', 1, [1, 0]);
      return b;
    },
    'q-table': () => {
      const agent = new TabularAgent({ states: 3, actions: 2 });
      agent.learn(0, 1, 1, 2, false);
      return agent;
    },
  };
  const crafts: Record<string, Craft[]> = {
    segments: [
      ['segment out of range', (f) => i32(f, 'assignments', 3, 99), /segment 99/],
      ['zero std', (f) => f64(f, 'std', 1, 0), /standard deviation/],
      ['NaN centroid', (f) => f32(f, 'centroids', 0, NaN), /centroids/],
      ['profiles cut', (f) => (f.header.profiles as unknown[]).pop(), /profiles/],
      ['no space', (f) => delete f.header.space, /feature space/],
      ['k zero', (f) => (f.header.k = 0), /bad dimensions/],
    ],
    propensity: [
      ['NaN row', (f) => f32(f, 'rows', 5, NaN), /feature rows/],
      ['recipe gone', (f) => delete f.header.recipe, /recipe/],
      ['part gone', (f) => delete f.header.parts, /part model/],
      ['part of another kind', (f) => ((f.header.parts as Record<string, { kind: string }>).model.kind = 'rules'), /model/],
      ['customers short', (f) => (f.header.ids as { customers: unknown[] }).customers.pop(), /id maps|rows has/],
    ],
    logistic: [
      ['NaN coefficient', (f) => f64(f, 'coefficients', 0, NaN), /coefficients\[0\] is not finite/],
      ['names short', (f) => (f.header.featureNames as unknown[]).pop(), /feature names/],
      ['intercept text', (f) => (f.header.intercept = 'x'), /intercept/],
    ],
    rules: [
      ['count above baskets', (f) => f64(f, 'counts', 0, 1e9), /counts/],
      ['consequent out of range', (f) => i32(f, 'consequents', 0, 1 << 20), /names item/],
      ['offsets', (f) => i32(f, 'indptr', 1, -5), /offsets/],
      ['rankBy', (f) => (f.header.rankBy = 'votes'), /rankBy/],
      ['NaN item count', (f) => f64(f, 'itemCounts', 2, NaN), /itemCounts\[2\]/],
    ],
    hybrid: [
      ['collaborative part not a recommender', (f) => ((f.header.parts as Record<string, unknown>).collaborative = (f.header.parts as Record<string, unknown>).content), /./],
      ['content part gone', (f) => delete (f.header.parts as Record<string, unknown>).content, /part content/],
      ['nested part with a bad kind', (f) => ((f.header.parts as Record<string, { kind: string }>).collaborative.kind = 'nope'), /unknown model kind "nope"/],
      ['counts short', (f) => (f.header.countedItems = 1), /itemCounts/],
    ],
    content: [['vocabulary short', (f) => (f.header.vocabulary as unknown[]).pop(), /vocabulary/]],
    forest: [
      ['child before its parent', (f) => i32(f, 'left', 0, 0), /children/],
      ['split on a missing feature', (f) => i32(f, 'feature', 0, 99), /feature/],
      ['NaN leaf value', (f) => f32(f, 'value', 3, NaN), /not finite/],
      ['outputs against classes', (f) => (f.header.outputs = 3), /outputs/],
      ['schema short', (f) => (f.header.schema as { features: unknown[] }).features.pop(), /schema/],
    ],
    uplift: [
      ['forest list against arms', (f) => (f.header.forests as unknown[]).push(1), /forests/],
      ['customer ids short', (f) => (f.header.ids as { customers: unknown[] }).customers.pop(), /customer ids/],
      ['arms missing', (f) => delete f.header.arms, /arms/],
      ['tree offsets', (f) => i32(f, 'f0.treeOffsets', 1, -3), /no nodes|children/],
    ],
    bandit: [
      ['offers against arms', (f) => (f.header.offers as unknown[]).pop(), /offers/],
      ['NaN in a model', (f) => f64(f, 'ainv', 0, NaN), /ainv/],
      ['duplicate offer', (f) => ((f.header.offers as { id: string }[])[1].id = 'a'), /twice/],
      ['negative count', (f) => f64(f, 'count', 0, -1), /negative count/],
      ['unknown policy', (f) => ((f.header.options as { policy: string }).policy = 'oracle'), /policy/],
      ['bad generator', (f) => f64(f, 'rng', 0, 0.5), /generator/],
    ],
    'q-table': [
      ['NaN value', (f) => f64(f, 'q', 1, NaN), /q\[1\]/],
      ['episodes', (f) => (f.header.episodes = -1), /episode/],
    ],
  };
  for (const [kind, make] of Object.entries(cases))
    it(kind, async () => {
      const path = join(dir, `c-${kind}.affinity`);
      await make().save(path);
      const good = await readFile(path);
      for (const cut of [17, 64, Math.floor(good.length / 2), good.length - 17, good.length - 1]) {
        await writeFile(join(dir, 'cut.affinity'), good.subarray(0, cut));
        await expect(loadModel(join(dir, 'cut.affinity')), `${kind} cut at ${cut}`).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE' });
      }
      for (const [what, craft, why] of crafts[kind] ?? []) {
        const f = await frame(path);
        craft(f);
        await f.write(join(dir, 'crafted.affinity'));
        const err = await loadModel(join(dir, 'crafted.affinity')).then(
          (m: AnyModel) => new Error(`loaded a ${m.kind}`),
          (e: Error) => e,
        );
        expect(err, `${kind}: ${what}`).toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringMatching(why) });
      }
    });
});

// The classes a loaded file builds are the exported ones.
void [CoPurchaseRules, HybridRecommender, LogisticRegression, PropensityScorer, Segmentation];
