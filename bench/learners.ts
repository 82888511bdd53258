// bench/learners: EASE's fit (Gram, blocked SPD inversion with its GFLOP/s against the machine's ~220
// GFLOP/s FP32 peak, the weights) on MovieLens-1M-sized data (6,040 users, 3,700 items, ~1M interactions)
// and at 8,000 items, exact and pruned (keep 200: fit and batch scoring); and BPR seconds per epoch on the
// `medium` preset at f=64 and f=128, 2 threads, against implicit's CPU BPR measured on this machine kind
// (1.51 s/epoch at f=64, 1.72 s at f=128; one epoch = one sampled triple per interaction).
//   npm run bench:learners -- [--items 3700,8000] [--epochs 5]
import { BPR, EASE, Interactions } from '../src/index.js';
import { generate } from '../src/data/synthetic.js';

const PEAK_GFLOPS = 220;
const IMPLICIT_BPR: Record<number, number> = { 64: 1.51, 128: 1.72 };
const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);

/** 6,040 users with ~165 interactions each over n items, popularity skewed as MovieLens's. */
async function movielensSized(items: number): Promise<Interactions> {
  const users = 6040, per = 165;
  const rows = new Int32Array(users * per), cols = new Int32Array(users * per);
  let s = 7;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 4294967296);
  for (let u = 0; u < users; u++) for (let t = 0; t < per; t++) (rows[u * per + t] = u), (cols[u * per + t] = Math.floor(next() ** 2 * items));
  return Interactions.fromIndices({ rows, cols, shape: [users, items] }, { duplicates: 'max' });
}

console.log('| EASE | items | interactions | fit s | Gram s | inverse s | GFLOP/s | of peak | 1,000 users batch s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const items of arg('items', '3700,8000').split(',').map(Number)) {
  const data = await movielensSized(items);
  for (const keep of [0, 200]) {
    const started = performance.now();
    const model = await new EASE({ lambda: 250, keep, threads: 2 }).fit(data);
    const fit = (performance.now() - started) / 1000;
    const t = model.timings!;
    const batchStart = performance.now();
    await model.recommendBatch(data.users.ids.slice(0, 1000), { k: 10 });
    const batch = (performance.now() - batchStart) / 1000;
    console.log(`| ${keep ? `keep ${keep}` : 'exact'} | ${items} | ${data.size} | ${fit.toFixed(2)} | ${t.gramSeconds.toFixed(2)} | ${t.inverseSeconds.toFixed(2)} | ${t.inverseGflops.toFixed(1)} | ${((100 * t.inverseGflops) / PEAK_GFLOPS).toFixed(0)}% | ${batch.toFixed(2)} |`);
  }
}

const epochs = Number(arg('epochs', '5'));
const medium = await generate('medium');
console.log(`\n| BPR on medium (${medium.userCount} users, ${medium.itemCount} items, ${medium.size} interactions) | s/epoch | implicit s/epoch | speed-up | sampled pairs ranked right |`);
console.log('|---|---|---|---|---|');
for (const factors of [64, 128]) {
  const times: number[] = [];
  let last = performance.now();
  const model = await new BPR({ factors, epochs, threads: 2 }).fit(medium, {
    onIteration: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  const perEpoch = times.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, times.length - 1);
  console.log(`| f=${factors}, 2 threads | ${perEpoch.toFixed(3)} | ${IMPLICIT_BPR[factors]} | ${(IMPLICIT_BPR[factors] / perEpoch).toFixed(2)}x | ${(100 * model.correct.at(-1)!).toFixed(1)}% |`);
}
