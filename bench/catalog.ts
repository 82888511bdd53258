// bench/catalog: recommendations with catalogue filters against the unfiltered scan in the same run, and
// what serving the marketing kinds from files costs.
//   1. ALS on `medium` (f=64): recommend (one user at a time, and batches of 256) with a filter keeping
//      50%, 5% and 0.5% of the items, against no filter: time per request and items scored per request.
//   2. Every marketing kind trained on UCI Online Retail, saved and loaded: load time, and the time of its
//      route's call on the loaded model against the in-memory one.
//   npm run bench:catalog -- [--preset medium] [--factors 64] [--requests 2000] [--no-retail]
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALS, Catalog, ContentRecommender, coPurchaseRules, HybridRecommender, loadModel, segmentCustomers, churnDataset, LogisticRegression, PropensityScorer, type Model } from '../src/index.js';
import { native } from '../src/core/native.js';
import { generate, type Preset } from '../src/data/synthetic.js';
import { Random } from '../src/core/random.js';
import { loadRetail } from './retail.js';

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'medium' }, factors: { type: 'string', default: '64' }, requests: { type: 'string', default: '2000' }, 'no-retail': { type: 'boolean' } } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function filters(): Promise<void> {
  const data = await generate(values.preset as Preset);
  const f = Number(values.factors);
  console.log(`## Filtered recommendations: ${values.preset} (${data.userCount} users, ${data.itemCount} items), ALS f=${f}`);
  const als = await new ALS({ factors: f, iterations: 3, seed: 1 }).fit(data);
  await als.prepare();
  // A catalogue whose `bucket` is uniform in [0, 1000): bucket < 500, < 50, < 5 keep 50%, 5%, 0.5%.
  const rng = new Random(9);
  const catalog = Catalog.fromArrays({ id: [...data.items.ids], bucket: data.items.ids.map(() => rng.int(1000)) });
  const cases: [string, ReturnType<Catalog['filter']> | undefined][] = [
    ['none', undefined],
    ['50%', catalog.filter({ bucket: { lt: 500 } })],
    ['5%', catalog.filter({ bucket: { lt: 50 } })],
    ['0.5%', catalog.filter({ bucket: { lt: 5 } })],
  ];
  const n = Number(values.requests);
  const users = Array.from({ length: n }, () => data.users.ids[rng.int(data.userCount)]);
  // The first request with a filter builds its item mask and (selective filters) its panels; later ones reuse them.
  const first = new Map<string, number>();
  for (const [name, filter] of cases) {
    const t = performance.now();
    als.recommend(users[0], { k: 10, filter });
    first.set(name, performance.now() - t);
  }
  console.log('| filter | items kept | first request ms | recommend µs/request | ratio to none | items scored/request | batch of 256: ms | ratio |');
  console.log('|---|---|---|---|---|---|---|---|');
  let base = 0;
  let baseBatch = 0;
  for (const [name, filter] of cases) {
    const times: number[] = [];
    native.alsScoredItems();
    for (let round = 0; round < 3; round++) {
      const t = performance.now();
      for (const u of users) als.recommend(u, { k: 10, filter });
      times.push(((performance.now() - t) * 1000) / n);
    }
    const scored = native.alsScoredItems() / (3 * n);
    const batches: number[] = [];
    for (let b = 0; b + 256 <= users.length; b += 256) {
      const t = performance.now();
      await als.recommendBatch(users.slice(b, b + 256), { k: 10, filter });
      batches.push(performance.now() - t);
    }
    const us = median(times);
    const batch = median(batches);
    if (name === 'none') (base = us), (baseBatch = batch);
    console.log(`| ${name} | ${filter ? filter.count : data.itemCount} | ${first.get(name)!.toFixed(2)} | ${us.toFixed(1)} | ${(us / base).toFixed(2)} | ${scored.toFixed(0)} | ${batch.toFixed(1)} | ${(batch / baseBatch).toFixed(2)} |`);
  }
}

async function files(): Promise<void> {
  const path = new URL('../../shared/data/uci-online-retail/online_retail.csv.gz', import.meta.url).pathname;
  if (!existsSync(path)) return console.log(`\n(skipping the retail files: ${path} is missing)`);
  const retail = await loadRetail(path);
  const { tx, categoryOf } = retail;
  const end = tx.timeRange[1] + 1;
  const data = await tx.toInteractions('count');
  const als = await new ALS({ factors: 32, iterations: 5, seed: 1 }).fit(data);
  const train = churnDataset(tx, { cutoff: end - 90 * 86400, horizonDays: 90 });
  const model = await new LogisticRegression({ classWeight: 'balanced', featureNames: train.featureNames }).fit(train.features, train.labels);
  const content = await new ContentRecommender().fit(retail.catalog, data);
  const customers = tx.customers.ids.slice(0, 200);
  const items = tx.items.ids.slice(0, 200) as string[];
  const kinds: [string, Model, (m: never) => unknown][] = [
    ['segments', await segmentCustomers(tx, { k: 5, categoryOf }), (m: { segmentOf(c: unknown): unknown }) => customers.map((c) => m.segmentOf(c))],
    ['propensity', new PropensityScorer(model, churnDataset(tx, { cutoff: end, horizonDays: 90 })), (m: PropensityScorer) => m.score(customers.filter((c) => m.dataset.customers.has(c)))],
    ['rules', await coPurchaseRules(tx, { minSupport: 2, minLift: 1, k: 20 }), (m: { alsoBought(i: string[]): unknown }) => items.map((i) => m.alsoBought([i]))],
    ['content', content, (m: ContentRecommender) => items.map((i) => m.recommendFor({ items: [i] }, { k: 10 }))],
    ['hybrid', new HybridRecommender(content, als, data), (m: HybridRecommender) => items.map((i) => m.recommendFor({ items: [i] }, { k: 10 }))],
  ];
  const dir = await mkdtemp(join(tmpdir(), 'affinity-bench-files-'));
  console.log(`\n## Marketing kinds as files: UCI Online Retail (${tx.size} lines, ${tx.customers.size} customers, ${tx.items.size} items)`);
  console.log('| kind | file MiB | load ms (median of 5) | route calls: in memory ms | from file ms | ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, m, call] of kinds) {
    const file = join(dir, `${name}.affinity`);
    await m.save(file);
    const loads: number[] = [];
    let loaded: Model | undefined;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      loaded = await loadModel(file, { mmap: false });
      loads.push(performance.now() - t);
    }
    const time = (target: Model) => {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        call(target as never);
        runs.push(performance.now() - t);
      }
      return median(runs);
    };
    const [memory, fromFile] = [time(m), time(loaded!)];
    const { size } = await import('node:fs').then((fs) => fs.statSync(file));
    console.log(`| ${name} | ${(size / 2 ** 20).toFixed(2)} | ${median(loads).toFixed(1)} | ${memory.toFixed(2)} | ${fromFile.toFixed(2)} | ${(fromFile / memory).toFixed(2)} |`);
  }
}

await filters();
if (!values['no-retail']) await files();
