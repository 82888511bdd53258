// Synthetic power-law interactions: Zipf item popularity, lognormal user activity, seeded.
import { pathToFileURL } from 'node:url';
import { Interactions } from '../src/index.js';
import { AliasTable, Random } from '../src/random.js';

export interface GeneratorSpec {
  users: number;
  items: number;
  /** Target number of distinct (user, item) pairs; oversample x this many draws are merged. */
  interactions: number;
  seed?: number;
  /** Zipf exponent of item popularity (default 0.9). */
  zipf?: number;
  /** Draws per target interaction before merging duplicates (default 1.15). */
  oversample?: number;
}

export const PRESETS = {
  small: { users: 10_000, items: 5_000, interactions: 460_000 },
  medium: { users: 100_000, items: 50_000, interactions: 5_070_000 },
  lastfm: { users: 360_000, items: 160_000, interactions: 18_300_000 },
} satisfies Record<string, GeneratorSpec>;
export type Preset = keyof typeof PRESETS;

/** Draws the (user, item) pairs of a spec as dense indices, duplicates included. */
export function drawInteractions(spec: GeneratorSpec): { rows: Int32Array; cols: Int32Array } {
  const rng = new Random(spec.seed ?? 42);
  const draws = Math.round(spec.interactions * (spec.oversample ?? 1.15));
  // Item popularity: Zipf over ranks, ranks assigned to item ids by a random permutation.
  const zipf = spec.zipf ?? 0.9;
  const weights = new Float64Array(spec.items);
  for (let r = 0; r < spec.items; r++) weights[r] = 1 / Math.pow(r + 1, zipf);
  const itemOfRank = rng.shuffle(Int32Array.from({ length: spec.items }, (_, i) => i));
  const items = new AliasTable(weights);
  // User activity: lognormal(0, 1) shares of all draws, rounded stochastically, at least one each.
  const activity = new Float64Array(spec.users);
  let total = 0;
  for (let u = 0; u < spec.users; u++) total += activity[u] = Math.exp(rng.normal());
  const counts = new Int32Array(spec.users);
  let n = 0;
  for (let u = 0; u < spec.users; u++) {
    const x = (activity[u] / total) * draws;
    counts[u] = Math.min(spec.items, Math.max(1, Math.floor(x) + (rng.next() < x - Math.floor(x) ? 1 : 0)));
    n += counts[u];
  }
  const rows = new Int32Array(n);
  const cols = new Int32Array(n);
  let p = 0;
  for (let u = 0; u < spec.users; u++) {
    for (let c = 0; c < counts[u]; c++, p++) {
      rows[p] = u;
      cols[p] = itemOfRank[items.sample(rng)];
    }
  }
  return { rows, cols };
}

/** Generates the interactions of a preset or spec; every value is 1 (repeated draws merge with max). */
export async function generate(spec: GeneratorSpec | Preset, seed?: number): Promise<Interactions> {
  const s: GeneratorSpec = typeof spec === 'string' ? { ...PRESETS[spec], seed } : { ...spec, seed: seed ?? spec.seed };
  const { rows, cols } = drawInteractions(s);
  return Interactions.fromIndices({ rows, cols, shape: [s.users, s.items] }, { duplicates: 'max' });
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback?: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  if (argv.includes('--help')) {
    console.log('usage: node dist/bench/generate.js --preset small|medium|lastfm [--seed N] --out PATH [--format npy|csv]');
    return;
  }
  const preset = (arg('preset', 'small') as Preset);
  if (!(preset in PRESETS)) throw new Error(`unknown preset ${preset}`);
  const out = arg('out');
  const started = performance.now();
  const data = await generate(preset, Number(arg('seed', '42')));
  console.log(`${preset}: ${data.userCount} users x ${data.itemCount} items, ${data.size} interactions in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  if (!out) return;
  if ((arg('format', 'npy')) === 'csv') await data.saveCsv(out);
  else await data.saveNpy(out);
  console.log(`wrote ${out}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
