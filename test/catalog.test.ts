// The product catalogue and its filters: files read as written (quotes, several categories, file:line
// errors), filters against a plain predicate, and every model's filtered top-k against a plain reference
// (a filter keeping under 1% of the items among them), so the native masks are exact.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALS, Catalog, ContentRecommender, ErrorCode, ItemKNN, MostPopular, UserKNN, type Recommender } from '../src/index.js';
import type { FilterSpec, ItemFilter } from '../src/data/filter.js';
import { Random } from '../src/core/random.js';
import { atEachLevel, randomInteractions } from './helpers.js';

const CATEGORIES = ['tea', 'coffee', 'cocoa', 'cups', 'gifts'];

function randomCatalog(items: number, seed: number, missingEvery = 0): Catalog {
  const r = new Random(seed);
  const ids: number[] = [];
  for (let i = 0; i < items; i++) if (!missingEvery || i % missingEvery !== 0) ids.push(i);
  return Catalog.fromArrays({
    id: ids,
    name: ids.map((i) => `product ${i}`),
    category: ids.map(() => (r.next() < 0.3 ? [CATEGORIES[r.int(5)], CATEGORIES[r.int(5)]] : CATEGORIES[r.int(5)])),
    price: ids.map(() => (r.next() < 0.05 ? null : Math.round(r.next() * 10000) / 100)),
    stock: ids.map(() => r.int(4)),
    rating: ids.map(() => 1 + r.int(5)),
  });
}

/** The plain predicate of a spec, written out once per shape the tests use. */
function plainPasses(catalog: Catalog, id: number, spec: FilterSpec): boolean {
  const a = catalog.attributesOf(id);
  if (!a) return false;
  for (const [attr, cond] of Object.entries(spec)) {
    const v = a[attr];
    const c = typeof cond === 'object' && !Array.isArray(cond) ? cond : Array.isArray(cond) ? { in: cond } : { eq: cond };
    const values = Array.isArray(v) ? v : v === null ? [] : [v];
    if (c.notIn && values.some((x) => c.notIn!.includes(x))) return false;
    const others = Object.keys(c).filter((k) => k !== 'notIn');
    if (others.length === 0) continue;
    if (values.length === 0) return false;
    if (c.eq !== undefined && !values.includes(c.eq)) return false;
    if (c.in && !values.some((x) => c.in!.includes(x))) return false;
    const n = v as number;
    if ((c.lt !== undefined && !(n < c.lt)) || (c.lte !== undefined && !(n <= c.lte)) || (c.gt !== undefined && !(n > c.gt)) || (c.gte !== undefined && !(n >= c.gte))) return false;
  }
  return true;
}

describe('catalogue files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'affinity-catalog-'));
  });

  it('reads CSV with quotes, line breaks in fields, several categories, sniffed delimiters and renamed columns', async () => {
    const path = join(dir, 'products.csv');
    await writeFile(path, '\ufeffsku;title;cat;price;stock;colour\n"A1";"Green tea; ""loose""";tea|gifts;4.5;3;green\nB2;"Mug\nlarge";cups;;0;\nC3;Beans;coffee;12;1;brown\n');
    const c = await Catalog.fromFile(path, { columns: { id: 'sku', name: 'title', category: 'cat' } });
    expect(c.size).toBe(3);
    expect(c.attributesOf('A1')).toEqual({ name: 'Green tea; "loose"', category: ['tea', 'gifts'], price: 4.5, inStock: true, stock: 3, colour: 'green' });
    expect(c.attributesOf('B2', ['name', 'price', 'inStock', 'colour'])).toEqual({ name: 'Mug\nlarge', price: null, inStock: false, colour: null });
    expect(c.attributesOf('nope')).toBeUndefined();
    expect(c.attributes).toEqual(['name', 'category', 'price', 'inStock', 'stock', 'colour']);
  });

  it('reads JSON and JSON lines; numeric ids match the models\' "123" and 123 alike', async () => {
    const json = join(dir, 'p.json');
    await writeFile(json, JSON.stringify([{ id: 1, name: 'a', category: ['x', 'y'], price: 2, inStock: true, tags: ['new'] }, { id: 2, name: 'b', price: 3, inStock: false }]));
    const lines = join(dir, 'p.jsonl');
    await writeFile(lines, '{"id":"1","price":2}\n\n{"id":"2","price":5,"brand":"acme"}\n');
    const a = await Catalog.fromFile(json);
    expect(a.attributesOf('1', ['name', 'category', 'tags'])).toEqual({ name: 'a', category: ['x', 'y'], tags: ['new'] });
    expect(a.attributesOf(2, ['category', 'inStock'])).toEqual({ category: [], inStock: false });
    const b = await Catalog.fromFile(lines);
    expect(b.attributesOf(2)).toEqual({ price: 5, brand: 'acme' });
  });

  it('names the file and line of a malformed row, and refuses what is not a catalogue', async () => {
    const cases: [string, string, RegExp][] = [
      ['bad-price.csv', 'id,price\na,1\nb,cheap\n', /bad-price\.csv:3: price must be a number/],
      ['fields.csv', 'id,name\na,x\nb,y,z\n', /fields\.csv:3: 3 fields, the header has 2/],
      ['quote.csv', 'id,name\na,"open\n', /quote\.csv:2: unterminated quoted field/],
      ['noid.csv', 'sku,name\na,x\n', /noid\.csv:1: no "id" column/],
      ['dup.csv', 'id\na\na\n', /duplicate product id "a"/],
      ['stock.csv', 'id,inStock\na,maybe\n', /stock\.csv:2: inStock must be/],
      ['lines.jsonl', '{"id":"a"}\n{"id":\n', /lines\.jsonl:2: not JSON/],
      ['badid.jsonl', '{"id":"a"}\n{"id":null}\n', /badid\.jsonl:2: product id/],
      ['proto.json', '[{"id":"a","__proto__":{"x":1}}]', /__proto__/],
      ['price.json', '[{"id":"a","price":"1"}]', /product 1: price must be a finite number/],
      ['obj.json', '{"id":"a"}', /must be an array of products/],
      ['empty.csv', '', /empty file/],
    ];
    for (const [name, text, message] of cases) {
      await writeFile(join(dir, name), text);
      const err = await Catalog.fromFile(join(dir, name)).catch((e) => e);
      expect(err?.code, name).toMatch(/ERR_AFFINITY_(PARSE|BAD_INPUT)/);
      expect(err.message, name).toMatch(message);
    }
    expect((await Catalog.fromFile(join(dir, 'missing.csv')).catch((e) => e)).code).toBe(ErrorCode.Io);
  });
});

describe('catalogue filters', () => {
  const catalog = randomCatalog(3000, 5);
  const specs: FilterSpec[] = [
    { category: { in: ['tea'] }, price: { lte: 20 }, inStock: true },
    { category: 'coffee' },
    { category: { notIn: ['tea', 'coffee'] } },
    { price: { gt: 10, lt: 11 } },
    { rating: [4, 5], stock: { gte: 3 } },
    { price: { notIn: [50] }, name: { in: ['product 7', 'product 9'] } },
  ];

  it('pass exactly the products a plain predicate passes', () => {
    for (const spec of specs) {
      const f = catalog.filter(spec);
      let count = 0;
      for (const id of catalog.items.ids) {
        const want = plainPasses(catalog, id as number, spec);
        expect(f.matches[catalog.rowOf(id)] === 1, `${JSON.stringify(spec)} on ${id}`).toBe(want);
        count += want ? 1 : 0;
      }
      expect(f.count).toBe(count);
    }
  });

  it('are compiled once per canonical form and refuse unknown attributes, operators and types', () => {
    expect(catalog.filter({ inStock: true, category: 'tea' })).toBe(catalog.filter({ category: 'tea', inStock: true }));
    const code = (spec: unknown) => {
      try {
        catalog.filter(spec as FilterSpec);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code + ': ' + (e as Error).message;
      }
    };
    expect(code({ colour: 'red' })).toMatch(/ERR_AFFINITY_UNKNOWN_ATTRIBUTE: .*"colour".*name, category, price/);
    expect(code({ price: { below: 3 } })).toMatch(/BAD_INPUT: .*unknown operator "below"/);
    expect(code({ price: 'cheap' })).toMatch(/BAD_INPUT: .*not a number/);
    expect(code({ name: { lt: 3 } })).toMatch(/BAD_INPUT: .*need a numeric attribute/);
    expect(code({ price: { lte: NaN } })).toMatch(/BAD_INPUT/);
    expect(code({ category: { in: Array(1001).fill('x') } })).toMatch(/at most 1000/);
    expect(code([])).toMatch(/BAD_INPUT/);
    expect(code({ price: {} })).toMatch(/empty condition/);
  });
});

/** The reference top-k of a model for a user: its own scores of every item, filtered, best first (ties: lower index). */
function referenceTopK(model: Recommender, user: number, k: number, passes: (item: number) => boolean, seen: Set<number>, candidatesOnly?: Set<number>): { item: number; score: number }[] {
  const items = model.items.ids as number[];
  const scores = model.score(user, items);
  return items
    .map((item, i) => ({ item, score: scores[i], i }))
    .filter((r) => passes(r.item) && !seen.has(r.item) && (!candidatesOnly || candidatesOnly.has(r.item)))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map(({ item, score }) => ({ item, score }));
}

function expectSameTopK(got: { item: unknown; score: number }[], want: { item: number; score: number }[], what: string) {
  expect(got.length, `${what}: count`).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    expect(got[j].score, `${what}: score ${j}`).toBeCloseTo(want[j].score, 4);
    // Equal scores may come in either order only when they tie to float precision.
    if (Math.abs(got[j].score - want[j].score) > 1e-6 * Math.max(1, Math.abs(want[j].score))) expect(got[j].item, `${what}: item ${j}`).toBe(want[j].item);
  }
  expect(new Set(got.map((r) => r.item)).size).toBe(got.length);
}

describe('filtered recommendations are the top k of the filtered catalogue', async () => {
  const data = await randomInteractions({ users: 150, items: 2000, density: 0.03, seed: 21 });
  const catalog = randomCatalog(2000, 8, 7); // every 7th item missing from the catalogue
  const specs: [string, FilterSpec][] = [
    ['about half', { price: { lte: 50 } }],
    ['about 5%', { category: { in: ['tea'] }, price: { lte: 40 }, stock: { gte: 2 } }],
    ['under 1%', { category: 'cocoa', price: { gte: 90 }, inStock: true, rating: 5 }],
  ];
  const filters: [string, ItemFilter][] = specs.map(([n, s]) => [n, catalog.filter(s)]);
  const passes = (f: ItemFilter) => (item: number) => catalog.rowOf(item) >= 0 && f.matches[catalog.rowOf(item)] === 1;
  const seenOf = (u: number) => new Set(Array.from(data.csr.indices.subarray(data.csr.indptr[u], data.csr.indptr[u + 1]), (i) => data.items.ids[i] as number));

  it('filters keep the shares the cases are named for', () => {
    const share = (f: ItemFilter) => f.count / 2000;
    expect(share(filters[0][1])).toBeGreaterThan(0.3);
    expect(share(filters[1][1])).toBeGreaterThan(0.02);
    expect(share(filters[1][1])).toBeLessThan(0.08);
    expect(share(filters[2][1])).toBeGreaterThan(0);
    expect(share(filters[2][1])).toBeLessThan(0.01);
  });

  const models: [string, () => Promise<Recommender>][] = [
    ['ALS implicit', () => new ALS({ factors: 24, iterations: 4, seed: 3 }).fit(data)],
    ['ALS explicit', () => new ALS({ factors: 16, iterations: 4, seed: 3, feedback: 'explicit' }).fit(data)],
    ['ItemKNN', () => new ItemKNN({ k: 40 }).fit(data)],
    ['UserKNN', () => new UserKNN({ k: 30 }).fit(data)],
    ['MostPopular', () => new MostPopular().fit(data)],
  ];
  for (const [name, make] of models)
    it(`${name}: single, batch and (where offered) visitor recommendations`, async () => {
      const model = await make();
      await model.prepare?.();
      await atEachLevel(async (level) => {
        for (const [fname, filter] of filters)
          for (const user of [0, 17, 149]) {
            const what = `${name} ${level} ${fname} user ${user}`;
            const sparse = name.includes('KNN');
            // Neighbourhood models rank only the items their neighbours reach (score 0 elsewhere).
            const reach = sparse ? new Set((model.items.ids as number[]).filter((_, i) => model.score(user, [model.items.ids[i]])[0] !== 0)) : undefined;
            const want = referenceTopK(model, user, 10, passes(filter), seenOf(user), reach);
            expectSameTopK(model.recommend(user, { k: 10, filter }), want, what);
            const batch = await model.recommendBatch([user, 3], { k: 10, filter });
            expectSameTopK(batch.get(0), want, `${what} batch`);
            // include and the filter together: their intersection.
            const include = want.slice(0, 3).map((r) => r.item).concat([0, 1, 2, 3]);
            const both = model.recommend(user, { k: 10, filter, include });
            expect(both.every((r) => include.includes(r.item as number) && passes(filter)(r.item as number)), `${what} include`).toBe(true);
          }
        if (model.recommendForAsync && name.startsWith('ALS')) {
          const history = { items: [1, 2, 3, 50] };
          const all = await model.recommendForAsync(history, { k: 2000, filterSeen: true });
          for (const [fname, filter] of filters) {
            const want = all.filter((r) => passes(filter)(r.item as number)).slice(0, 10);
            expectSameTopK(await model.recommendForAsync(history, { k: 10, filter }), want as { item: number; score: number }[], `${name} ${level} visitor ${fname}`);
          }
        }
      });
    });

  it('ALS item neighbours and stored neighbour lists honour the filter', async () => {
    const als = await new ALS({ factors: 16, iterations: 3, seed: 1 }).fit(data);
    const knn = await new ItemKNN({ k: 200 }).fit(data);
    for (const [, filter] of filters) {
      const p = passes(filter);
      const all = await als.similarItemsAsync(5, { k: 2000 });
      expect(await als.similarItemsAsync(5, { k: 10, filter })).toEqual(all.filter((n) => p(n.id as number)).slice(0, 10));
      expect(als.similarItems(5, { k: 10, filter })).toEqual(all.filter((n) => p(n.id as number)).slice(0, 10));
      const stored = knn.similarItems(5, { k: 200 });
      expect(knn.similarItems(5, { k: 10, filter })).toEqual(stored.filter((n) => p(n.id as number)).slice(0, 10));
    }
    await expect(als.similarUsersAsync(5, { k: 3, filter: filters[0][1] } as never)).rejects.toMatchObject({ code: ErrorCode.BadInput });
  });

  it('content recommendations honour the filter; a filter nothing passes answers empty without a scan', async () => {
    const products = (catalog.items.ids as number[]).map((id) => ({ id, text: String(catalog.attributesOf(id)!.name), categories: catalog.attributesOf(id)!.category as string[] }));
    const content = await new ContentRecommender().fit(products, data);
    for (const [, filter] of filters) {
      const p = passes(filter);
      const all = content.recommend(4, { k: 5000 });
      expect(content.recommend(4, { k: 10, filter })).toEqual(all.filter((r) => p(r.item as number)).slice(0, 10));
      const visitor = content.recommendFor({ items: [10, 11] }, { k: 5000 });
      expect(content.recommendFor({ items: [10, 11] }, { k: 10, filter })).toEqual(visitor.filter((r) => p(r.item as number)).slice(0, 10));
    }
    const none = catalog.filter({ price: { gt: 1e9 } });
    expect(none.count).toBe(0);
    const als = await new ALS({ factors: 8, iterations: 2 }).fit(data);
    expect(als.recommend(0, { filter: none })).toEqual([]);
    expect((await als.recommendBatch([0, 1], { filter: none })).get(1)).toEqual([]);
    expect(() => als.recommend(0, { filter: { category: 'tea' } as never })).toThrow(/catalog\.filter/);
  });
});
