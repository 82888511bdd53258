// bench/als: seconds per ALS iteration (implicit, CG 3 steps) at factors 32/64/128 on the medium and
// lastfm presets, achieved GFLOP/s against the machine's ~220 GFLOP/s FP32 peak, batch recommendation
// for 10,000 users and fold-in latency.   npm run bench:als -- [--presets medium,lastfm] [--factors 32,64,128]
import { ALS, type Interactions } from '../src/index.js';
import { generate, type Preset } from '../src/data/synthetic.js';

const PEAK_GFLOPS = 220;
const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const presets = arg('presets', 'medium,lastfm').split(',') as Preset[];
const factorsList = arg('factors', '32,64,128').split(',').map(Number);
const iterations = Number(arg('iterations', '3'));
const threads = Number(arg('threads', '2'));

/**
 * Floating-point operations of one CG iteration as implemented, both sweeps: the fixed side's Gram matrix
 * (lower triangle), turning both sides to its eigenbasis, and per CG pass a dot and an update for every
 * interaction (G·p is a diagonal scaling in that basis: O(f) per row, left out).
 */
function cgFlops(data: Interactions, f: number, steps: number): number {
  const all = data.userCount + data.itemCount;
  const sweep = (nnz: number, other: number) => f * f * other + 2 * f * f * all + (1 + steps) * 4 * f * nnz;
  return sweep(data.size, data.itemCount) + sweep(data.size, data.userCount);
}

console.log(`| preset | factors | s/iteration | GFLOP/s | of peak | 10k recs (s) | fold-in (µs) |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const preset of presets) {
  const data = await generate(preset);
  for (const f of factorsList) {
    const model = new ALS({ factors: f, iterations, threads });
    const times: number[] = [];
    let last = performance.now();
    const start = last;
    await model.fit(data, {
      onIteration: () => {
        const now = performance.now();
        times.push(now - last);
        last = now;
      },
    });
    // Iteration events arrive late through the event loop: use the total wall time per iteration.
    const perIteration = (performance.now() - start) / 1000 / iterations;
    const gflops = cgFlops(data, f, 3) / perIteration / 1e9;
    let recs = '-';
    let foldIn = '-';
    if (f === 64) {
      const users = Array.from({ length: 10_000 }, (_, i) => data.users.ids[(i * 7919) % data.userCount]);
      const t = performance.now();
      await model.recommendBatch(users, { k: 10, threads });
      recs = ((performance.now() - t) / 1000).toFixed(3);
      const history = { items: Array.from({ length: 100 }, (_, i) => data.items.ids[(i * 4099) % data.itemCount]) };
      for (let i = 0; i < 20; i++) model.foldIn(history);
      const t2 = performance.now();
      for (let i = 0; i < 200; i++) model.foldIn(history);
      foldIn = (((performance.now() - t2) / 200) * 1000).toFixed(0);
    }
    console.log(`| ${preset} | ${f} | ${perIteration.toFixed(2)} | ${gflops.toFixed(1)} | ${((gflops / PEAK_GFLOPS) * 100).toFixed(1)}% | ${recs} | ${foldIn} |`);
  }
}
