// Seeded mutation fuzzing of the TypeScript parsers (.npy and the model-file loader), bounded for the test
// suite. The native parsers get coverage-guided fuzzing with libFuzzer (scripts/fuzz.sh); these two are
// TypeScript over native checks, so mutated inputs are pushed through them here: every input must load
// or fail with an AffinityError carrying a code, never another exception or a crash.
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AffinityError, ALS, ContentRecommender, encodeNpy, isRecommender, ItemKNN, loadModel, MostPopular, parseNpy, UserKNN, CoPurchaseRules, HybridRecommender, PropensityScorer, Segmentation, type Model } from '../src/index.js';
import { Random } from '../src/core/random.js';
import { randomInteractions } from './helpers.js';
import { demoShop } from '../src/data/synthetic.js';
import { demoAnalytics } from '../src/server/demo.js';
import { topLevelRanges } from '../src/io/modelfile.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-fuzz-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** One random mutation: flip bits, overwrite bytes with boundary values, truncate, splice or repeat. */
function mutate(rng: Random, input: Buffer): Buffer {
  const b = Buffer.from(input);
  switch (rng.int(5)) {
    case 0:
      for (let n = 1 + rng.int(8); n > 0; n--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    case 1: {
      const at = rng.int(Math.max(1, b.length - 4));
      const v = [0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0xffffffff, 0x80000000][rng.int(8)];
      b.writeUInt32LE(v >>> 0, at);
      return b;
    }
    case 2:
      return b.subarray(0, rng.int(b.length));
    case 3: {
      const from = rng.int(b.length);
      const to = rng.int(b.length);
      return Buffer.concat([b.subarray(0, to), b.subarray(from, from + rng.int(64)), b.subarray(to)]);
    }
    default: {
      const at = rng.int(b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.alloc(rng.int(16), rng.int(256)), b.subarray(at)]);
    }
  }
}

/** The model file with its checksum made valid again, so mutations reach the structural checks. */
function withValidCrc(b: Buffer): Buffer {
  if (b.length < 80) return b;
  const out = Buffer.from(b);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 16)) >>> 0, out.length - 16);
  return out;
}

function expectCoded(err: unknown, what: string): void {
  expect(err, what).toBeInstanceOf(AffinityError);
  expect((err as AffinityError).code, what).toMatch(/^ERR_AFFINITY_/);
}

describe('the header scanner', () => {
  it('finds every top-level value of random JSON objects exactly as JSON.parse sees it, and refuses non-objects', () => {
    const rng = new Random(5);
    const value = (depth: number): unknown => {
      switch (rng.int(depth > 2 ? 4 : 6)) {
        case 0:
          return rng.int(1e6) - 5e5 + rng.next();
        case 1:
          return ['', 'a"b', 'c\\d', '{[,]}', 'é😀', '\\"'][rng.int(6)] + String(rng.int(100));
        case 2:
          return [true, false, null][rng.int(3)];
        case 3:
          return -1 - rng.int(10);
        case 4:
          return Array.from({ length: rng.int(5) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [`k${i}"}`, value(depth + 1)]));
      }
    };
    for (let n = 0; n < 500; n++) {
      const object = Object.fromEntries(Array.from({ length: rng.int(6) }, (_, i) => [`key ${i},"x"`, value(0)]));
      const text = Buffer.from(n % 2 ? JSON.stringify(object) : JSON.stringify(object, null, 2));
      const ranges = topLevelRanges(text)!;
      expect([...ranges.keys()]).toEqual(Object.keys(object));
      for (const [key, [from, to]] of ranges) expect(JSON.parse(text.subarray(from, to).toString())).toEqual(object[key]);
    }
    for (const bad of ['null', '[1,2]', '"x"', '{"a":1', '{"a" 1}', '{"a":1}x', '{"a":"unterminated}']) expect(topLevelRanges(Buffer.from(bad)), bad).toBeNull();
  });
});

describe('mutation fuzzing', () => {
  it('.npy: every mutated file parses or is ERR_AFFINITY_PARSE', () => {
    const rng = new Random(1);
    const seeds = [encodeNpy(Int32Array.of(0, 2, 5, 9)), encodeNpy(Float32Array.of(1.5, -2, 3)), encodeNpy(BigInt64Array.of(3n, 4n)), encodeNpy(new Float64Array(100).fill(0.25))];
    let rejected = 0;
    for (let n = 0; n < 3000; n++) {
      const input = mutate(rng, Buffer.from(seeds[n % seeds.length]));
      try {
        const a = parseNpy(input, `case ${n}`);
        expect(a.length).toBeGreaterThanOrEqual(0);
      } catch (err) {
        expectCoded(err, `case ${n}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('model files of every kind: mutated (checksum recomputed or not), each loads or is rejected with a code', async () => {
    const data = await randomInteractions({ users: 25, items: 15, density: 0.3, seed: 2 });
    const small = await demoShop(9, 40, 500);
    const analytics = await demoAnalytics(small, await new ALS({ factors: 3, iterations: 1 }).fit(small.data));
    const models: Model[] = [
      ...Object.values(analytics),
      analytics.propensity.model,
      await new ALS({ factors: 4, iterations: 1 }).fit(data),
      await new ALS({ factors: 3, iterations: 1, feedback: 'explicit' }).fit(data),
      await new ItemKNN({ k: 5 }).fit(data),
      await new UserKNN({ k: 5 }).fit(data),
      await new MostPopular().fit(data),
      await new ContentRecommender({ maxDf: 1 }).fit(
        data.items.ids.map((id, i) => ({ id, text: `w${i % 5} w${i % 3}` })),
        data,
      ),
    ];
    const seeds: Buffer[] = [];
    for (const [i, m] of models.entries()) {
      await m.save(join(dir, `seed${i}.affinity`));
      seeds.push(await readFile(join(dir, `seed${i}.affinity`)));
    }
    const rng = new Random(3);
    const path = join(dir, 'case.affinity');
    let loaded = 0;
    for (let n = 0; n < 4800; n++) {
      const seed = seeds[n % seeds.length];
      const mutated = mutate(rng, seed);
      await writeFile(path, n % 2 === 0 ? withValidCrc(mutated) : mutated);
      try {
        const model = await loadModel(path, { mmap: n % 3 !== 0 });
        // Whatever loads must serve without crashing: a recommendation for its first user, if any.
        if (isRecommender(model) && model.users.size > 0) model.recommend(model.users.ids[0], { k: 3 });
        if (model instanceof Segmentation) model.segmentOf(model.customers.ids[0]);
        if (model instanceof PropensityScorer) model.score(model.dataset.customers.ids.slice(0, 2));
        if (model instanceof CoPurchaseRules && model.items.size > 0) model.alsoBought([model.items.ids[0]]);
        if (model instanceof HybridRecommender) model.recommendFor({ items: model.content.items.ids.slice(0, 2) as string[] });
        loaded++;
      } catch (err) {
        expectCoded(err, `case ${n}`);
      }
    }
    expect(loaded).toBeLessThan(2400); // mutations do get rejected
  }, 120_000);
});
