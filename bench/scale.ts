// bench/scale: the lastfm preset (~18M interactions) end to end: CSV file -> Interactions -> ItemKNN,
// with wall time and peak RSS after each step. npm run bench:scale -- [--preset lastfm] [--csv PATH]
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Interactions, ItemKNN } from '../src/index.js';
import { generate, type Preset } from '../src/data/synthetic.js';

function peakMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await fn();
  console.log(`${label.padEnd(34)} ${((performance.now() - t) / 1000).toFixed(2).padStart(7)} s   peak RSS ${peakMiB().toFixed(0)} MiB`);
  return r;
}

const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const preset = arg('preset', 'lastfm') as Preset;
const csv = arg('csv', `/tmp/affinity-${preset}.csv`);

if (!existsSync(csv)) {
  const data = await step(`generate ${preset}`, () => generate(preset));
  await step(`write ${csv}`, () => data.saveCsv(csv));
}
console.log(`${csv}: ${(statSync(csv).size / 2 ** 20).toFixed(0)} MiB`);
const data = await step('Interactions.fromFile (CSV)', () => Interactions.fromFile(csv, { columns: { user: 'user', item: 'item', value: 'value' } }));
console.log(`  ${data.userCount} users x ${data.itemCount} items, ${data.size} interactions, matrix ${(data.byteLength / 2 ** 20).toFixed(0)} MiB`);
const model = await step('ItemKNN fit (cosine, k=50, 2 threads)', () => new ItemKNN({ k: 50, threads: 2 }).fit(data));
const users = Array.from({ length: 10_000 }, (_, i) => data.users.ids[(i * 7919) % data.userCount]);
await step('recommendBatch 10k users, k=10', () => model.recommendBatch(users, { k: 10 }));
